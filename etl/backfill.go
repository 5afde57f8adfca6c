package etl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/config"
)

// BackfillOptions are the choices of a backfill.
type BackfillOptions struct {
	// Run holds the options of each period's run (Config, Logger, Abandon,
	// OnStep...); AsOf, From, To, Job, Trigger and ShrinkBaseline are set
	// per period.
	Run Options
	// From and To are the first and the last month, both complete.
	From, To time.Time
	// Force runs again the periods a backfill already did.
	Force bool
	// OnPeriod is told when a period starts and when it ends.
	OnPeriod func(PeriodEvent)
}

// PeriodEvent reports a backfill period starting (Result nil) or ending.
type PeriodEvent struct {
	Period  time.Time // first day of the month
	Index   int       // 1-based among the periods to run
	Total   int       // periods to run (skipped ones excluded)
	Skipped []time.Time
	Result  *Result
	Err     error
}

// BackfillJob is the job name of a backfill's run of month m in history
// ("backfill 2026-03"): it is how a backfill knows the months done.
func BackfillJob(m time.Time) string { return "backfill " + m.Format("2006-01") }

// Backfill runs each month from From to To in order, as if run on the first
// day of the next month: incremental sources pull that month only, and the
// month is reported complete. Months a backfill already did are skipped
// (unless Force), so a backfill that stopped resumes where it stopped when
// given the same command again. It stops at the first failed period.
func Backfill(ctx context.Context, opt BackfillOptions) ([]*Result, error) {
	cfg := opt.Run.Config
	from, to := monthOf(opt.From), monthOf(opt.To)
	if to.Before(from) {
		return nil, fmt.Errorf("backfill: --to %s is before --from %s", to.Format("2006-01"), from.Format("2006-01"))
	}
	now := time.Now()
	if opt.Run.Now != nil {
		now = opt.Run.Now()
	}
	today := now.In(cfg.Location())
	if thisMonth := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC); !to.Before(thisMonth) {
		return nil, fmt.Errorf("backfill: %s has not ended yet; backfill complete months (uptake run reports the current one)", to.Format("2006-01"))
	}
	done, err := backfilledMonths(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var todo, skipped []time.Time
	for m := from; !m.After(to); m = m.AddDate(0, 1, 0) {
		if _, ok := done[m]; ok && !opt.Force {
			skipped = append(skipped, m)
			continue
		}
		todo = append(todo, m)
	}
	report := opt.OnPeriod
	if report == nil {
		report = func(PeriodEvent) {}
	}
	var results []*Result
	for i, m := range todo {
		if err := ctx.Err(); err != nil {
			return results, fmt.Errorf("backfill stopped before %s: %w", m.Format("2006-01"), context.Cause(ctx))
		}
		report(PeriodEvent{Period: m, Index: i + 1, Total: len(todo), Skipped: skipped})
		run := opt.Run
		run.Job, run.Trigger = BackfillJob(m), "backfill"
		run.AsOf = m.AddDate(0, 1, 0)
		run.From, run.To = m, m.AddDate(0, 1, -1)
		// Tables grow period after period: each is checked against the one
		// before it (the first against nothing: older months are smaller than
		// whatever is published today).
		run.ShrinkBaseline = ShrinkNone
		if prev, ok := done[m.AddDate(0, -1, 0)]; ok {
			run.ShrinkBaseline = prev
		}
		res, err := Run(ctx, run)
		results = append(results, res)
		report(PeriodEvent{Period: m, Index: i + 1, Total: len(todo), Skipped: skipped, Result: res, Err: err})
		if err != nil {
			return results, fmt.Errorf("backfill stopped at %s (run the same command again to resume there): %w", m.Format("2006-01"), err)
		}
		done[m] = res.RunID
	}
	return results, nil
}

// backfilledMonths maps each month a backfill run did successfully to that
// run's id (the latest one), from the runs' job names: the months a run
// reports on depend on the data, the month it was asked for does not.
func backfilledMonths(ctx context.Context, cfg *config.Config) (map[time.Time]string, error) {
	out := map[time.Time]string{}
	db, err := openReadOnly(cfg)
	if errors.Is(err, errNoWarehouse) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT job, arg_max(run_id, started_at) FROM runs
		WHERE trigger = 'backfill' AND status = 'success' AND job LIKE 'backfill %' GROUP BY job`)
	if err != nil {
		return nil, fmt.Errorf("read runs (is another run in progress?): %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var job, id string
		if err := rows.Scan(&job, &id); err != nil {
			return nil, err
		}
		if month, err := time.Parse("2006-01", strings.TrimPrefix(job, "backfill ")); err == nil {
			out[month] = id
		}
	}
	return out, rows.Err()
}

func monthOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}
