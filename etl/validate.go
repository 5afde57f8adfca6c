package etl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/etl/warehouse"
)

// Validation is what `uptake validate` found.
type Validation struct {
	// Extracted counts what the sources could read.
	Extracted connectors.Extracted
	// Rejects are the first rejected rows, as "file:line: column: reason".
	Rejects []string
	// Problems are every error found: config, connectors, files.
	Problems []error
	// Warnings are what a run would warn about (files that look like an
	// export but match no pattern, staging tables left by killed runs...).
	Warnings []string
	// RowsOut counts the rows of each table a run would publish (empty when
	// a problem stopped validate before the models).
	RowsOut map[string]int64
}

// Validate runs the steps of a run up to the publish (setup, extract,
// load, transform, test) on a throwaway in-memory warehouse: the warehouse
// and the destinations are not touched. It lists every problem it can find
// at once: every broken connector and input, what each destination's own
// check says; the models and data tests run when the inputs are fine.
func Validate(ctx context.Context, cfg *config.Config, asOf time.Time, log *slog.Logger) (*Validation, error) {
	v := &Validation{}
	connectors.MergeExtracted(&v.Extracted, connectors.Extracted{})
	// DuckDB names its spill files alike in every process and removes them
	// as it closes: validate spills into a folder of its own, never into a
	// run's (duckdb.temp_directory), which may be spilling at the same time.
	if dir := cfg.DuckDB.TempDirectory; dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("validate: %w", err)
		}
	}
	spill, err := os.MkdirTemp(cfg.DuckDB.TempDirectory, "uptake-validate-")
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	defer os.RemoveAll(spill)
	db, err := warehouse.Open(ctx, warehouse.Options{MemoryLimit: cfg.DuckDB.MemoryLimit, Threads: cfg.DuckDB.Threads,
		TimeZone: cfg.Timezone, TempDirectory: spill})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	started := time.Now()
	res := &Result{RunID: "validate", StartedAt: started, RowsRead: map[string]int64{}, RowsIn: map[string]int64{}, RowsOut: map[string]int64{}}
	run := connectors.Run{ID: res.RunID, StartedAt: started, AsOf: time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC),
		Location: cfg.Location(), Logger: log, Validate: true}
	run.Warn = func(msg string) { v.Warnings = append(v.Warnings, msg) }
	p := &pipeline{conn: conn, opt: withDefaults(Options{Config: cfg, AsOf: asOf, Logger: log, FullRefresh: true}), run: run, res: res, log: log}
	// The connectors that could be built are set up and run; the others
	// are problems.
	if p.plugins, err = newPlugins(cfg); err != nil {
		v.Problems = append(v.Problems, flatten(err)...)
	}
	if _, err := Jobs(cfg); err != nil {
		v.Problems = append(v.Problems, flatten(err)...)
	}
	if err := p.do(ctx, stepsNamed("setup")...); err != nil {
		return nil, err
	}
	// The run's own extract step: the same sources, and the same checks
	// across them (two sources claiming the same rows), the same reject
	// check. Its problems are listed one by one, as the sources name them.
	extracted := p.do(ctx, stepsNamed("extract")...)
	connectors.MergeExtracted(&v.Extracted, p.ex)
	if extracted != nil {
		v.Problems = append(v.Problems, flatten(errors.Unwrap(extracted))...) // connectors name their files and themselves
	}
	for _, src := range p.plugins.sources {
		if c, ok := src.(connectors.Checker); ok {
			v.Problems = append(v.Problems, c.Check(ctx, conn, p.run)...)
		}
	}
	for _, dst := range p.plugins.dests {
		if c, ok := dst.(connectors.Checker); ok {
			v.Problems = append(v.Problems, c.Check(ctx, conn, p.run)...)
		}
	}
	if v.Rejects, err = rejectExamples(ctx, conn, 20); err != nil {
		return nil, err
	}
	if len(v.Problems) == 0 {
		// The inputs are fine: what the models and the data tests say.
		if err := p.do(ctx, stepsNamed("load", "transform", "test")...); err != nil {
			v.Problems = append(v.Problems, fmt.Errorf("a run would fail at its %w", err))
		} else {
			v.RowsOut = res.RowsOut
			delete(v.RowsOut, "runs") // the run history: validate is no run
		}
	}
	// The run's warnings (setup, sources, reject shares, models), then
	// those the connectors gave through run.Warn.
	v.Warnings = append(append([]string(nil), res.Warnings...), v.Warnings...)
	return v, nil
}

// flatten splits a joined error into its parts, those of joined parts
// included.
func flatten(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}
