package etl

import (
	"context"
	"fmt"
	"log/slog"
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
}

// Validate builds every connector and reads every input into a throwaway
// in-memory database: the warehouse and the destinations are not touched.
func Validate(ctx context.Context, cfg *config.Config, asOf time.Time, log *slog.Logger) (*Validation, error) {
	v := &Validation{}
	connectors.MergeExtracted(&v.Extracted, connectors.Extracted{})
	db, err := warehouse.Open(ctx, warehouse.Options{MemoryLimit: cfg.DuckDB.MemoryLimit, Threads: cfg.DuckDB.Threads, TimeZone: cfg.Timezone})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := execModel(ctx, conn, "contract", "load_rejects"); err != nil {
		return nil, err
	}
	run := connectors.Run{ID: "validate", StartedAt: time.Now(), AsOf: time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC),
		Location: cfg.Location(), Logger: log}
	run.Warn = func(msg string) { v.Warnings = append(v.Warnings, msg) }
	run.Rows = warehouse.RowWriter{Conn: conn}
	p, err := newPlugins(cfg)
	if err != nil {
		v.Problems = append(v.Problems, flatten(err)...)
	}
	if _, err := Jobs(cfg); err != nil {
		v.Problems = append(v.Problems, flatten(err)...)
	}
	// The run's own extract step: the same sources, and the same checks
	// across them (two sources claiming the same rows).
	ex, err := extract(ctx, conn, p, run, log, func(Step) {})
	connectors.MergeExtracted(&v.Extracted, ex)
	if err != nil {
		v.Problems = append(v.Problems, flatten(err)...) // connectors name their files and themselves
	}
	for _, src := range p.sources {
		if c, ok := src.(connectors.Checker); ok {
			v.Problems = append(v.Problems, c.Check(ctx, conn, run)...)
		}
	}
	for _, dst := range p.dests {
		if c, ok := dst.(connectors.Checker); ok {
			v.Problems = append(v.Problems, c.Check(ctx, conn, run)...)
		}
	}
	v.Warnings = append(append(setupWarnings(cfg), v.Extracted.Warnings...), v.Warnings...)
	if v.Rejects, err = rejectExamples(ctx, conn, 20); err != nil {
		return nil, err
	}
	over, _ := rejectShares(cfg, v.Extracted)
	for _, msg := range over {
		v.Problems = append(v.Problems, fmt.Errorf("%s, above checks.max_reject_pct = %g %%: a run would fail", msg, cfg.Checks.MaxRejectPct))
	}
	return v, nil
}

// flatten splits a joined error into its parts.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
