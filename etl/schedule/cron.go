// Package schedule fires uptake's jobs on their cron expressions, one run at
// a time, with retries, a catch-up after downtime, and /healthz and /metrics
// for whoever watches the process.
package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser accepts the standard five fields, an optional leading seconds
// field, and the @daily-style descriptors.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Cron is a cron expression in a time zone. Its fire times follow the wall
// clock of that zone across daylight-saving changes: a time that a
// spring-forward gap skips (02:30 in Europe/Paris on the last Sunday of
// March) fires at the first instant after the gap, and a time that the
// autumn overlap repeats fires once, at its first occurrence.
type Cron struct {
	expr string
	spec *cron.SpecSchedule // evaluated on wall-clock times written as UTC
	loc  *time.Location
}

// ParseCron parses expr (five fields, or six with seconds first, or a
// descriptor such as @daily) for the zone loc.
func ParseCron(expr string, loc *time.Location) (*Cron, error) {
	trimmed := strings.TrimSpace(expr)
	if strings.HasPrefix(trimmed, "CRON_TZ=") || strings.HasPrefix(trimmed, "TZ=") {
		return nil, fmt.Errorf("cron %q: give the zone in timezone:, not in the expression", expr)
	}
	if strings.HasPrefix(trimmed, "@every") {
		return nil, fmt.Errorf("cron %q: @every is not supported; write the times, e.g. \"0 */6 * * *\"", expr)
	}
	s, err := parser.Parse(trimmed)
	if err != nil {
		return nil, fmt.Errorf("cron %q: %w", expr, err)
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("cron %q: not a time-of-day schedule", expr)
	}
	spec.Location = time.UTC
	if loc == nil {
		loc = time.UTC
	}
	return &Cron{expr: trimmed, spec: spec, loc: loc}, nil
}

// String is the expression and its zone.
func (c *Cron) String() string { return c.expr + " " + c.loc.String() }

// Next is the first fire time strictly after t (zero if the expression
// never matches, such as 30 February).
func (c *Cron) Next(t time.Time) time.Time {
	w := wall(t, c.loc)
	// A wall time maps to an instant at or before t only inside an autumn
	// overlap (t in its second pass): step on until past it, however many
	// fire times the overlap holds (3,600 for a per-second schedule).
	for i := 0; i < 1_000_000; i++ {
		w = c.spec.Next(w)
		if w.IsZero() {
			return time.Time{}
		}
		if at := c.instant(w); at.After(t) {
			return at
		}
	}
	return time.Time{}
}

// Prev is the last fire time at or before t (zero if none in five years).
func (c *Cron) Prev(t time.Time) time.Time {
	// The shortest look back that holds a fire time: per-second schedules
	// answer in a few steps, yearly ones in a few hundred.
	for _, back := range []time.Duration{time.Minute, time.Hour, 26 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 366 * 24 * time.Hour} {
		var last time.Time
		for at := c.Next(t.Add(-back)); !at.IsZero() && !at.After(t); at = c.Next(at) {
			last = at
		}
		if !last.IsZero() {
			return last
		}
	}
	return time.Time{}
}

// wall is t's wall-clock reading in loc, written as a UTC time.
func wall(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// instant is the first instant whose wall clock in c.loc reads w, or, when
// a daylight-saving gap skips w, the instant the gap ends.
func (c *Cron) instant(w time.Time) time.Time {
	guess := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), c.loc)
	var first time.Time
	for _, probe := range []time.Time{guess.Add(-12 * time.Hour), guess, guess.Add(12 * time.Hour)} {
		_, offset := probe.In(c.loc).Zone()
		at := w.Add(-time.Duration(offset) * time.Second)
		if wall(at, c.loc).Equal(w) && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	if !first.IsZero() {
		return first
	}
	_, gapEnds := guess.Add(-12 * time.Hour).ZoneBounds()
	return gapEnds
}
