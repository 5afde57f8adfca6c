package etl_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/etl"
)

// overview is kpi_overview_monthly without published_at, one line a month,
// every value in full (as text: cells rounds fractions).
func overview(w *workspace) string {
	return strings.Join(w.cells(`SELECT COLUMNS(* EXCLUDE (published_at))::VARCHAR FROM kpi_overview_monthly ORDER BY month`), "\n")
}

// The fixture holds July to September 2026. A backfill of those months,
// stopped after July and resumed, runs each month once, as if on the 1st of
// the next month, and ends with the tables a run on 1 October gives.
func TestBackfillResumes(t *testing.T) {
	w := newWorkspace(t, "")
	now := func() time.Time { return date(2026, 10, 15) }
	ctx, stop := context.WithCancelCause(context.Background())
	var events []string
	opt := etl.BackfillOptions{
		Run:  etl.Options{Config: w.cfg, Logger: discard(), Now: now},
		From: date(2026, 7, 1), To: date(2026, 9, 1),
		OnPeriod: func(e etl.PeriodEvent) {
			if e.Result != nil {
				events = append(events, fmt.Sprintf("%s %d/%d %v", e.Period.Format("2006-01"), e.Index, e.Total, e.Err))
				stop(errors.New("stopped by SIGTERM")) // after the first month
			}
		},
	}
	res, err := etl.Backfill(ctx, opt)
	if err == nil || !strings.Contains(err.Error(), "backfill stopped before 2026-08: stopped by SIGTERM") || len(res) != 1 {
		t.Fatalf("stopped backfill: %v (%d runs)", err, len(res))
	}
	// July's run: as of 1 August, July complete and the only month.
	if r := res[0]; !r.WindowStart.Equal(date(2026, 7, 1)) || !r.WindowEnd.Equal(date(2026, 7, 1)) || r.Headline == nil || !r.Headline.Month.Equal(date(2026, 7, 1)) {
		t.Errorf("July: window %s..%s, headline %+v", r.WindowStart, r.WindowEnd, r.Headline)
	}

	// The same command again: July is skipped, August and September run.
	var skipped []time.Time
	opt.OnPeriod = func(e etl.PeriodEvent) {
		skipped = e.Skipped
		if e.Result != nil {
			events = append(events, fmt.Sprintf("%s %d/%d %v", e.Period.Format("2006-01"), e.Index, e.Total, e.Err))
		}
	}
	res, err = etl.Backfill(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(events, ", "); got != "2026-07 1/3 <nil>, 2026-08 1/2 <nil>, 2026-09 2/2 <nil>" {
		t.Errorf("periods run: %s", got)
	}
	if len(skipped) != 1 || !skipped[0].Equal(date(2026, 7, 1)) {
		t.Errorf("skipped %v, want July", skipped)
	}
	if r := res[1]; !r.WindowEnd.Equal(date(2026, 9, 1)) || !r.Headline.Month.Equal(date(2026, 9, 1)) {
		t.Errorf("September: window end %s, headline %+v", r.WindowEnd, r.Headline)
	}
	backfilled := overview(w)
	runs, _ := etl.History(context.Background(), w.cfg, 10)
	var trail []string
	for _, r := range runs {
		trail = append(trail, r.Job+" "+r.Trigger+" "+r.Status+" "+r.WindowEnd.Time.Format("2006-01"))
	}
	sort.Strings(trail) // the test clock gives every run the same start
	if got := strings.Join(trail, ", "); got != "backfill 2026-07 backfill success 2026-07, backfill 2026-08 backfill success 2026-08, backfill 2026-09 backfill success 2026-09" {
		t.Errorf("history: %s", got)
	}

	// Everything done: nothing to run; --force runs the three months again.
	events = nil
	if res, err = etl.Backfill(context.Background(), opt); err != nil || len(res) != 0 || len(events) != 0 {
		t.Errorf("nothing to do: %d runs, %v", len(res), err)
	}
	opt.Force = true
	if res, err = etl.Backfill(context.Background(), opt); err != nil || len(res) != 3 {
		t.Errorf("--force: %d runs, %v", len(res), err)
	}

	// A plain run on 1 October gives the same overview.
	if _, err := w.run(etl.Options{AsOf: date(2026, 10, 1)}); err != nil {
		t.Fatal(err)
	}
	if got := overview(w); got != backfilled || strings.Count(got, "\n") != 2 {
		t.Errorf("after a run on 1 October:\n%s\nafter the backfill:\n%s", got, backfilled)
	}
}

func TestBackfillRefusesOpenMonths(t *testing.T) {
	w := newWorkspace(t, "")
	now := func() time.Time { return date(2026, 10, 15) }
	_, err := etl.Backfill(context.Background(), etl.BackfillOptions{Run: etl.Options{Config: w.cfg, Now: now, Logger: discard()},
		From: date(2026, 9, 1), To: date(2026, 10, 1)})
	if err == nil || !strings.Contains(err.Error(), "2026-10 has not ended yet") {
		t.Errorf("err = %v", err)
	}
	_, err = etl.Backfill(context.Background(), etl.BackfillOptions{Run: etl.Options{Config: w.cfg, Now: now, Logger: discard()},
		From: date(2026, 9, 1), To: date(2026, 8, 1)})
	if err == nil || !strings.Contains(err.Error(), "--to 2026-08 is before --from 2026-09") {
		t.Errorf("err = %v", err)
	}
}
