// Package etl is uptake's pipeline: a run extracts every source into the
// warehouse, transforms with sql/, checks the result and publishes it to every
// destination, all or nothing, leaving one row in the runs table.
package etl

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"time"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/etl/warehouse"
)

// Options are the choices of one run.
type Options struct {
	// Config is the loaded configuration.
	Config *config.Config
	// Job names the job in history (default "default").
	Job string
	// Trigger is manual, schedule or backfill (default manual).
	Trigger string
	// AsOf is the run's reference date (default: today in the configured zone).
	AsOf time.Time
	// From and To override the window of incremental sources (zero: their
	// watermark minus the lookback, to yesterday).
	From, To time.Time
	// AllowShrink lets a table lose more than checks.max_shrink_pct of its rows.
	AllowShrink bool
	// ShrinkBaseline is the run whose row counts the shrink check compares
	// with: "" is the last successful run that was not a backfill's, a run
	// id is that run, ShrinkNone skips the check (a backfill's first period).
	ShrinkBaseline string
	// Logger receives one line per step (default: slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// FullRefresh reads every input file again and rebuilds everything,
	// whatever the warehouse kept from earlier runs (--full-refresh).
	FullRefresh bool
	// Abandon, once done, abandons a publish in flight. The run's own
	// context stops the run only until it publishes: from then on the
	// publish and the warehouse swap finish, so that a stop never leaves
	// destinations and warehouse apart (default: a publish is never
	// abandoned; each destination is all or nothing anyway).
	Abandon context.Context
	// Attempt and Attempts number a scheduled run's tries (0: not
	// scheduled); a failure says "attempt 1 of 3, retrying".
	Attempt, Attempts int
	// OnStep, when set, is told of each step's progress (backfill's
	// progress bar).
	OnStep func(Step)
}

// Step is a step of a run as it ends: extract, transform or publish, the
// table or destination, and the rows it handled.
type Step struct {
	Name  string
	Table string
	Rows  int64
}

// ShrinkNone, as Options.ShrinkBaseline, skips the shrink check.
const ShrinkNone = "none"

// ErrStopped marks a run stopped (by SIGTERM or SIGINT) before it published.
var ErrStopped = errors.New("the run was stopped before it published; nothing was published")

// Result is what a run did. It is returned, also on failure, as far as the
// run got.
type Result struct {
	RunID       string
	Status      string // success, failed or stopped (by a signal, before it published)
	StartedAt   time.Time
	EndedAt     time.Time
	WindowStart time.Time
	WindowEnd   time.Time
	RowsRead    map[string]int64
	RowsIn      map[string]int64
	RowsOut     map[string]int64
	Rejected    int64
	Warnings    []string
	Outputs     []string
	// Destinations say where the run publishes ("name: where").
	Destinations []string
	// Published names the destinations that published (all of them when the
	// run succeeded; on failure, those that committed before it).
	Published []string
	// NotPublished names the destinations that keep their previous tables
	// after a failure between two commits (the next run publishes again).
	NotPublished []string
	// FilesRead and FilesKept count the input files the sources parsed, and
	// those unchanged since an earlier run read them (not parsed again).
	FilesRead, FilesKept int
	// MonthsBuilt and MonthsKept count the months of the monthly models
	// (sql/ "-- @month") the run built, and those it read from the parts
	// earlier runs built, their inputs unchanged; ModelsKept counts the
	// other models read whole from an earlier part.
	MonthsBuilt, MonthsKept, ModelsKept int
	// Excluded counts the accounts left out by the exclude: lists.
	Excluded Excluded
	// Headline is the latest complete month's KPIs (nil when none).
	Headline *Headline

	publishing bool // the publish has begun: a stop no longer stops the run
	Err        error
}

// Run executes one run. The returned error is the run's failure; the runs
// table holds a row for the run either way, unless the run could not begin
// (the lock held by another run, the warehouse unreadable): the failure is
// then only logged and notified.
func Run(ctx context.Context, opt Options) (*Result, error) {
	opt = withDefaults(opt)
	cfg := opt.Config
	started := opt.Now()
	res := &Result{RunID: newRunID(started), StartedAt: started, Status: "failed",
		RowsRead: map[string]int64{}, RowsIn: map[string]int64{}, RowsOut: map[string]int64{}}
	log := opt.Logger.With("run_id", res.RunID)
	ctx = backoff.WithLogger(ctx, log) // connectors' retries are logged with the run's id
	db, conn, release, err := begin(ctx, opt, res)
	if err != nil {
		res.Err, res.EndedAt = err, opt.Now()
		end(ctx, opt, res, log)
		return res, err
	}
	defer release()
	log.Info("run started", "job", opt.Job, "trigger", opt.Trigger, "warehouse", cfg.Warehouse)

	run := connectors.Run{ID: res.RunID, StartedAt: started, AsOf: asOfDate(opt), Location: cfg.Location(), Logger: log,
		From: opt.From, To: opt.To, MaxShrinkPct: cfg.Checks.MaxShrinkPct, AllowShrink: opt.AllowShrink,
		// A backfill publishes each month's view of older data on purpose; its
		// own shrink check compares a month with the month before.
		Backfill: opt.Trigger == "backfill"}
	run.Warn = func(msg string) { res.Warnings = append(res.Warnings, msg) } // destinations publish one at a time
	run.Warnings = func() []string { return res.Warnings }
	if run.Watermarks, err = watermarks(ctx, conn); err == nil {
		err = execute(ctx, db, conn, opt, run, res, log)
	}
	res.Err = err
	switch {
	case err == nil:
		res.Status = "success"
	case ctx.Err() != nil && !res.publishing:
		// Stopped before the publish: whatever the step said (an
		// interrupted query, a cancelled request), the cause is the stop.
		res.Status = "stopped"
		res.Err = fmt.Errorf("%w (%v)", ErrStopped, context.Cause(ctx))
	}
	res.EndedAt = opt.Now()
	// The run's row is written even when ctx was cancelled.
	if err := finish(context.WithoutCancel(ctx), conn, res); err != nil {
		res.Err = errors.Join(res.Err, err)
	}
	end(ctx, opt, res, log)
	return res, res.Err
}

// begin takes the lock, opens the warehouse (the database, and the run's
// connection to it) and records the run as running. release undoes all three.
func begin(ctx context.Context, opt Options, res *Result) (*sql.DB, *sql.Conn, func(), error) {
	cfg := opt.Config
	lock, err := AcquireLock(filepath.Join(filepath.Dir(cfg.Warehouse), "lock"), res.RunID, res.StartedAt)
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := warehouse.Open(ctx, warehouse.Options{Path: cfg.Warehouse, MemoryLimit: cfg.DuckDB.MemoryLimit,
		Threads: cfg.DuckDB.Threads, TimeZone: cfg.Timezone, TempDirectory: cfg.DuckDB.TempDirectory})
	if err != nil {
		lock.Release()
		return nil, nil, nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		lock.Release()
		return nil, nil, nil, fmt.Errorf("warehouse: %w", err)
	}
	release := func() { conn.Close(); db.Close(); lock.Release() }
	// Holding the lock, no other run is in progress: a row still 'running'
	// belongs to a process that died.
	if _, err := conn.ExecContext(ctx, `UPDATE main.runs SET status = 'failed',
		error = 'interrupted: the process stopped before the run ended' || coalesce(', ' || error, '') WHERE status = 'running'`); err != nil {
		release()
		return nil, nil, nil, fmt.Errorf("record interrupted runs: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO main.runs (run_id, job, trigger, started_at, status) VALUES (?, ?, ?, ?, 'running')`,
		res.RunID, opt.Job, opt.Trigger, res.StartedAt); err != nil {
		release()
		return nil, nil, nil, fmt.Errorf("record run: %w", err)
	}
	return db, conn, release, nil
}

// end notifies and logs the run's outcome. Of a scheduled run's tries, the
// first failure and the last are notified, the ones between are not.
func end(ctx context.Context, opt Options, res *Result, log *slog.Logger) {
	if res.Err != nil && opt.Attempt > 1 && opt.Attempt < opt.Attempts {
		log.Info("no failure notification for a middle try", "attempt", opt.Attempt, "attempts", opt.Attempts)
	} else {
		notify(ctx, opt.Config.Notify, res, opt.Attempt, opt.Attempts, log)
	}
	took := res.EndedAt.Sub(res.StartedAt).Round(time.Millisecond).String()
	switch {
	case res.Err == nil:
		log.Info("run succeeded", "duration", took)
	case res.Status == "stopped":
		log.Warn("run stopped", "error", res.Err, "duration", took)
	default:
		log.Error("run failed", "error", res.Err, "duration", took)
	}
}

func withDefaults(opt Options) Options {
	if opt.Job == "" {
		opt.Job = "default"
	}
	if opt.Trigger == "" {
		opt.Trigger = "manual"
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.OnStep == nil {
		opt.OnStep = func(Step) {}
	}
	return opt
}

func asOfDate(opt Options) time.Time {
	t := opt.AsOf
	if t.IsZero() {
		t = opt.Now().In(opt.Config.Location())
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func newRunID(t time.Time) string {
	// Random, not from the clock: runs of one second (a backfill, a test
	// clock) must not share an id. 32 bits: with 16, two of a backfill's
	// runs in one second shared one about once in 65,536 pairs (and failed
	// to record the second run).
	return fmt.Sprintf("%s-%08x", t.UTC().Format("20060102T150405Z"), rand.Uint32())
}

// execute runs the steps of a run (see steps.go). Everything after the
// extract is built in a schema of its own, made live only by the last step:
// a failed run leaves the previous tables live.
func execute(ctx context.Context, db *sql.DB, conn *sql.Conn, opt Options, run connectors.Run, res *Result, log *slog.Logger) error {
	p := &pipeline{db: db, conn: conn, opt: opt, run: run, res: res, log: log}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SET search_path = 'main'")
	defer func() { discard(ctx, p.pubs) }()
	defer p.waitCheckpoint() // before the run's row is written and the warehouse closed
	return p.do(ctx, runSteps...)
}

func finish(ctx context.Context, conn *sql.Conn, res *Result) error {
	in, _ := json.Marshal(res.RowsIn)
	out, _ := json.Marshal(res.RowsOut)
	var errText any
	if res.Err != nil {
		errText = res.Err.Error()
	}
	var ws, we any
	if !res.WindowStart.IsZero() {
		ws, we = res.WindowStart, res.WindowEnd
	}
	_, err := conn.ExecContext(ctx, `UPDATE main.runs SET ended_at = ?, status = ?, rows_in = ?, rows_out = ?, error = ?,
		window_start = ?, window_end = ? WHERE run_id = ?`,
		res.EndedAt, res.Status, string(in), string(out), errText, ws, we, res.RunID)
	if err != nil {
		return fmt.Errorf("record run end: %w", err)
	}
	return nil
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// took formats the time since t0 for logs ("1.234s" in text and JSON alike).
func took(t0 time.Time) string { return time.Since(t0).Round(time.Millisecond).String() }
