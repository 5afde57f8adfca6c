package etl

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/etl/schedule"
)

// Jobs are the config's scheduled jobs, their cron expressions parsed
// (errors name the file and line).
func Jobs(cfg *config.Config) ([]schedule.Job, error) {
	var jobs []schedule.Job
	var errs []error
	for i, j := range cfg.ScheduledJobs() {
		loc, err := time.LoadLocation(j.Timezone)
		if err != nil {
			errs = append(errs, cfg.Errorf(fmt.Sprintf("jobs.%d.timezone", i), "%v", err))
			continue
		}
		c, err := schedule.ParseCron(j.Schedule, loc)
		if err != nil {
			errs = append(errs, cfg.Errorf(fmt.Sprintf("jobs.%d.schedule", i), "%v", err))
			continue
		}
		if c.Next(time.Now()).IsZero() {
			errs = append(errs, cfg.Errorf(fmt.Sprintf("jobs.%d.schedule", i), "%q never fires (no such date in the next five years)", j.Schedule))
			continue
		}
		jobs = append(jobs, schedule.Job{Name: j.Name, Cron: c, Retries: *j.Retries, RetryDelay: j.RetryDelay})
	}
	return jobs, errors.Join(errs...)
}

// LastScheduledRuns reads, for each job, its last scheduled run from the
// runs table (none yet: an empty map).
func LastScheduledRuns(ctx context.Context, cfg *config.Config) (map[string]schedule.LastRun, error) {
	out := map[string]schedule.LastRun{}
	db, err := openReadOnly(cfg)
	if errors.Is(err, errNoWarehouse) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// A run left 'running' (the process died) or marked interrupted by the
	// next run, and a run stopped by a signal, did not happen: caught up.
	rows, err := db.QueryContext(ctx, `SELECT job, started_at, ended_at, status, coalesce(error, '')
		FROM runs WHERE trigger = 'schedule' QUALIFY row_number() OVER (PARTITION BY job ORDER BY started_at DESC) = 1`)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var job, status, msg string
		var started time.Time
		var ended sql.NullTime
		if err := rows.Scan(&job, &started, &ended, &status, &msg); err != nil {
			return nil, fmt.Errorf("read runs: %w", err)
		}
		interrupted := status == "stopped" || status == "running" || strings.HasPrefix(msg, "interrupted:")
		out[job] = schedule.LastRun{Started: started, Ended: ended.Time, Success: status == "success", Interrupted: interrupted, Error: msg}
	}
	return out, rows.Err()
}
