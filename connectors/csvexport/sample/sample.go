// Package sample generates realistic platform exports for demos, tests and
// benchmarks.
//
// Generate writes, for a period of complete months, the three kinds of CSV
// export the platform produces:
//
//   - establishments_YYYY-MM.csv, one per month: every customer known that
//     month with its archive and portal-access flags, its portal views,
//     downloads and shares that month, its salesperson and its seats;
//   - activity_YYYY-MM.csv, one per month: one row per date, user and event
//     with a positive count, sorted by date;
//   - users_YYYY-MM-DD.csv: a snapshot of all users dated the day after the
//     period, with their creation, first-login and deactivation dates.
//
// The data is deterministic for a given Options value: the same options give
// byte-identical files. It tells the adoption story of a B2B portal launched
// at the start of the period: customers adopt it over the first months, some
// never do, occasional customers have dormant months, many are away in July
// and August and come back in September; a long tail of customers scores a
// few events a month while about a tenth (the champions) score most; one
// salesperson's portfolio does clearly better and one clearly worse; churners
// decline, stop and are archived, and a few customers a month see their
// score halve. Only a part of each customer's users use the portal, so that
// licence utilization spreads widely. Whether customers and users are active
// does not depend on the activity target, which only sets how much the active
// ones do (below about one active day per active user-month, users are active
// less often). The files are mutually consistent: the establishment counters
// are exactly the sums of the activity rows, and activity only happens while
// the customer has portal access, is not archived and the user exists.
//
// Rows are streamed to disk month by month, so that generating ten million
// activity rows for a million users takes a few seconds and a few tens of
// megabytes of memory.
package sample

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Options says what to generate.
type Options struct {
	Out          string    // output directory (created if missing)
	Customers    int       // establishments over the whole period
	Users        int       // users over the whole period
	Months       int       // number of complete months of data
	End          time.Time // first day of the LAST month of data (UTC); months run End-Months+1 .. End
	Seed         uint64    // random seed: the same options give byte-identical files
	ActivityRows int       // approximate target number of activity rows (0 = about 13 per user per active month)
	Salespeople  int       // default 5 when 0
}

// Summary says what was written (files with their row counts, totals).
type Summary struct {
	Files                          []FileSummary // every written file, in writing order
	Customers, Users, ActivityRows int           // totals over the whole period
}

// FileSummary is one written file and its number of data rows (header not
// counted).
type FileSummary struct {
	Path string // path of the file (Options.Out joined with the file name)
	Rows int    // data rows, header excluded
}

// Limits on Options.
const (
	maxMonths      = 120
	maxCount       = 1 << 30 // customers, users and activity rows
	maxSalespeople = 10000
)

// validate checks the options and returns the first problem found.
func (o *Options) validate() error {
	switch {
	case o.Out == "":
		return errors.New("sample: Out (output directory) is empty")
	case o.Customers <= 0:
		return fmt.Errorf("sample: Customers must be positive, got %d", o.Customers)
	case o.Users <= 0:
		return fmt.Errorf("sample: Users must be positive, got %d", o.Users)
	case o.Users < o.Customers:
		return fmt.Errorf("sample: Users (%d) must be at least Customers (%d): every customer has a user", o.Users, o.Customers)
	case o.Customers > maxCount || o.Users > maxCount:
		return fmt.Errorf("sample: Customers and Users must be at most %d", maxCount)
	case o.Months < 1 || o.Months > maxMonths:
		return fmt.Errorf("sample: Months must be between 1 and %d, got %d", maxMonths, o.Months)
	case o.End.IsZero():
		return errors.New("sample: End (first day of the last month) is not set")
	case o.ActivityRows < 0 || o.ActivityRows > maxCount:
		return fmt.Errorf("sample: ActivityRows must be between 0 and %d, got %d", maxCount, o.ActivityRows)
	case o.Salespeople < 0 || o.Salespeople > maxSalespeople:
		return fmt.Errorf("sample: Salespeople must be between 0 and %d, got %d", maxSalespeople, o.Salespeople)
	}
	e := o.End.UTC()
	if e.Day() != 1 || e.Hour() != 0 || e.Minute() != 0 || e.Second() != 0 || e.Nanosecond() != 0 {
		return fmt.Errorf("sample: End must be the first day of a month at 00:00 UTC, got %s", o.End.Format(time.RFC3339))
	}
	start := e.AddDate(0, 1-o.Months, 0)
	if start.Year() < 1000 || e.Year() > 9998 {
		return fmt.Errorf("sample: period %s .. %s is out of range (years 1000..9998)", start.Format("2006-01"), e.Format("2006-01"))
	}
	return nil
}

// Generate writes the sample exports described by opt into opt.Out and says
// what it wrote. It checks ctx between months and returns ctx.Err() when it is
// cancelled, leaving the files written so far.
func Generate(ctx context.Context, opt Options) (Summary, error) {
	if err := opt.validate(); err != nil {
		return Summary{}, err
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return Summary{}, fmt.Errorf("sample: %w", err)
	}
	g := newGenerator(opt)
	target := opt.ActivityRows
	if target == 0 {
		target = g.defaultTarget()
	}
	if err := g.calibrate(target, opt.ActivityRows > 0); err != nil {
		return Summary{}, err
	}
	sum := Summary{Customers: opt.Customers, Users: opt.Users}
	for m := 0; m < opt.Months; m++ {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		g.generateMonth(m)
		label := g.cal.monthLabel(m)
		est, err := g.writeEstablishments(filepath.Join(opt.Out, "establishments_"+label+".csv"), m)
		if err != nil {
			return sum, err
		}
		act, err := g.writeActivity(filepath.Join(opt.Out, "activity_"+label+".csv"))
		if err != nil {
			return sum, err
		}
		sum.Files = append(sum.Files, est, act)
		sum.ActivityRows += act.Rows
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	snap := g.cal.start.AddDate(0, opt.Months, 0).Format("2006-01-02")
	users, err := g.writeUsers(filepath.Join(opt.Out, "users_"+snap+".csv"))
	if err != nil {
		return sum, err
	}
	sum.Files = append(sum.Files, users)
	return sum, nil
}

// calendar maps day indexes (0 = first day of the period) to dates and months.
type calendar struct {
	start      time.Time
	months     int
	days       int
	monthStart []int     // day index of each month's first day; monthStart[months] = days
	calMonth   []int     // calendar month (1..12) of each period month
	dates      []byte    // "YYYY-MM-DD" of each day, 10 bytes per day
	weight     []float64 // relative activity of each day (weekdays busy, weekends quiet)
}

// dayWeights gives the relative activity of each weekday (Sunday first).
var dayWeights = [7]float64{0.07, 0.95, 1, 1, 0.95, 0.82, 0.13}

func newCalendar(end time.Time, months int) *calendar {
	e := end.UTC()
	c := &calendar{start: time.Date(e.Year(), e.Month()+1-time.Month(months), 1, 0, 0, 0, 0, time.UTC), months: months}
	c.monthStart = make([]int, months+1)
	c.calMonth = make([]int, months)
	for m := 0; m <= months; m++ {
		t := c.start.AddDate(0, m, 0)
		c.monthStart[m] = int(t.Sub(c.start).Hours()/24 + 0.5)
		if m < months {
			c.calMonth[m] = int(t.Month())
		}
	}
	c.days = c.monthStart[months]
	c.dates = make([]byte, 0, 10*c.days)
	c.weight = make([]float64, c.days)
	for d := 0; d < c.days; d++ {
		t := c.start.AddDate(0, 0, d)
		c.dates = t.AppendFormat(c.dates, "2006-01-02")
		c.weight[d] = dayWeights[t.Weekday()]
	}
	return c
}

// date returns the "YYYY-MM-DD" spelling of day index d.
func (c *calendar) date(d int) []byte { return c.dates[10*d : 10*d+10] }

// monthLabel returns "YYYY-MM" for period month m.
func (c *calendar) monthLabel(m int) string { return c.start.AddDate(0, m, 0).Format("2006-01") }
