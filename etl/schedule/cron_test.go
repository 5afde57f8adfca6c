package schedule

import (
	"strings"
	"testing"
	"time"
)

func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustCron(t *testing.T, expr string, loc *time.Location) *Cron {
	t.Helper()
	c, err := ParseCron(expr, loc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// In 2026, Europe/Paris springs forward on Sunday 29 March (02:00 CET →
// 03:00 CEST, 01:00 UTC) and falls back on Sunday 25 October (03:00 CEST →
// 02:00 CET, 01:00 UTC).
func TestCronNextAcrossDST(t *testing.T) {
	loc := paris(t)
	cases := []struct {
		name, expr, after string
		want              []string // successive fire times, UTC
	}{
		{"ordinary day: 02:00 CET is 01:00 UTC", "0 2 * * *", "2026-03-27T12:00:00Z",
			[]string{"2026-03-28T01:00:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"}},
		// 02:30 does not exist on 29 March: the first instant after the gap
		// is 03:00 CEST = 01:00 UTC; the next day 02:30 CEST = 00:30 UTC.
		{"spring gap fires when the gap ends", "30 2 * * *", "2026-03-28T12:00:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		// 02:30 happens twice on 25 October: 00:30 UTC (CEST) and 01:30 UTC
		// (CET). It fires once, at the first; then 02:30 CET on the 26th.
		{"autumn overlap fires once", "30 2 * * *", "2026-10-24T12:00:00Z",
			[]string{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		// Every 30 minutes through the gap: 01:30 CET (00:30 UTC), then
		// 02:00 and 02:30 are skipped by the gap and collapse into one firing
		// at 03:00 CEST (01:00 UTC), then 03:30 CEST (01:30 UTC).
		{"half-hourly through the gap", "*/30 * * * *", "2026-03-29T00:15:00Z",
			[]string{"2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z"}},
		// Hourly through the overlap: 02:00 CEST (00:00 UTC), then the
		// repeated 02:00 CET (01:00 UTC) is skipped, then 03:00 CET (02:00 UTC).
		{"hourly through the overlap", "0 * * * *", "2026-10-24T23:30:00Z",
			[]string{"2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"}},
		// Started in the second pass of New York's repeated hour (01:10 EST, 1 November
		// 2026): every 2 minutes of that hour fired in its first pass; the next is 02:00 EST.
		{"frequent schedule from inside the overlap", "*/2 * * * *", "2026-11-01T06:10:00Z",
			[]string{"2026-11-01T07:00:00Z", "2026-11-01T07:02:00Z"}},
		{"seconds field", "*/10 * * * * *", "2026-01-01T00:00:05Z",
			[]string{"2026-01-01T00:00:10Z", "2026-01-01T00:00:20Z"}},
		{"descriptor", "@daily", "2026-01-01T12:00:00Z",
			[]string{"2026-01-01T23:00:00Z", "2026-01-02T23:00:00Z"}},
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			zone := loc
			if strings.Contains(c.name, "overlap") && strings.HasPrefix(c.expr, "*/2") {
				zone = ny
			}
			cr := mustCron(t, c.expr, zone)
			at := utc(c.after)
			for i, want := range c.want {
				at = cr.Next(at)
				if !at.Equal(utc(want)) {
					t.Fatalf("fire %d: got %s (%s), want %s", i+1, at.UTC().Format(time.RFC3339), at.In(loc), want)
				}
			}
		})
	}
}

func TestCronPrev(t *testing.T) {
	loc := paris(t)
	cr := mustCron(t, "30 2 * * *", loc)
	for _, c := range []struct{ at, want string }{
		{"2026-03-29T01:00:00Z", "2026-03-29T01:00:00Z"}, // a fire time is its own Prev
		{"2026-03-29T00:59:59Z", "2026-03-28T01:30:00Z"}, // 02:30 CET on the 28th
		{"2026-10-25T01:45:00Z", "2026-10-25T00:30:00Z"}, // after the repeated 02:30: the first one
		{"2026-06-10T12:00:00Z", "2026-06-10T00:30:00Z"},
	} {
		if got := cr.Prev(utc(c.at)); !got.Equal(utc(c.want)) {
			t.Errorf("Prev(%s) = %s, want %s", c.at, got.UTC().Format(time.RFC3339), c.want)
		}
	}
	monthly := mustCron(t, "0 6 1 * *", time.UTC)
	if got := monthly.Prev(utc("2026-11-25T00:00:00Z")); !got.Equal(utc("2026-11-01T06:00:00Z")) {
		t.Errorf("monthly Prev = %s", got)
	}
}

func TestParseCronRejects(t *testing.T) {
	for expr, want := range map[string]string{
		"":                      "empty spec string",
		"0 2 * *":               "expected 5 to 6 fields",
		"61 2 * * *":            "above maximum",
		"@every 1h":             "@every is not supported",
		"CRON_TZ=UTC 0 2 * * *": "timezone:",
	} {
		_, err := ParseCron(expr, time.UTC)
		if err == nil || !contains(err.Error(), want) {
			t.Errorf("ParseCron(%q) = %v, want an error with %q", expr, err, want)
		}
	}
	if c := mustCron(t, "0 0 30 2 *", time.UTC); !c.Next(utc("2026-01-01T00:00:00Z")).IsZero() {
		t.Error("30 February fired")
	}
}

func contains(s, sub string) bool {
	return strings.Contains(s, sub)
}
