package etl

// The extract step: every source pulls its inputs into the raw contract
// tables of the run's connection, its rejects kept whatever happens next
// and checked.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptake-dev/uptake/connectors"
)

// watermarks reads the last day each incremental source pulled.
func watermarks(ctx context.Context, conn *sql.Conn) (map[string]time.Time, error) {
	rows, err := conn.QueryContext(ctx, `SELECT source, last_day FROM main.watermarks`)
	if err != nil {
		return nil, fmt.Errorf("read watermarks: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var name string
		var day time.Time
		if err := rows.Scan(&name, &day); err != nil {
			return nil, err
		}
		out[name] = day.UTC()
	}
	return out, rows.Err()
}

// extractStep runs every source, keeps the rejects whatever happens next
// (they are what the ops person reads) and fails the run when a table's
// rejects pass checks.max_reject_pct.
func extractStep(ctx context.Context, p *pipeline) ([]any, error) {
	res := p.res
	ex, err := extract(ctx, p.conn, p.plugins, p.run, p.log, p.opt.OnStep)
	p.ex = ex
	res.RowsRead, res.Rejected, res.Warnings = ex.RowsRead, sum(ex.Rejected), append(setupWarnings(p.opt.Config), ex.Warnings...)
	res.FilesRead, res.FilesKept = ex.FilesRead, ex.FilesKept
	// The files read are recorded even when a source failed: a next run
	// does not read them again.
	ferr := p.files.Flush(context.WithoutCancel(ctx))
	if kerr := keepRejects(ctx, p.conn, res.RunID); kerr != nil || ferr != nil {
		return nil, errors.Join(err, ferr, kerr)
	}
	// The reject check even when a source failed: one run (or validate)
	// names every broken input.
	if rerr := checkRejects(ctx, p.conn, p.opt.Config, ex, res); rerr != nil || err != nil {
		return nil, errors.Join(err, rerr)
	}
	return []any{"rows", sum(ex.RowsRead), "rejected", res.Rejected, "files_read", ex.FilesRead, "files_unchanged", ex.FilesKept}, nil
}

// extract runs every source in turn; a source's failure does not stop the
// others, so that one run names every broken input.
func extract(ctx context.Context, conn *sql.Conn, p *plugins, run connectors.Run, log *slog.Logger, onStep func(Step)) (connectors.Extracted, error) {
	var all connectors.Extracted
	connectors.MergeExtracted(&all, connectors.Extracted{})
	var errs []error
	for i, src := range p.sources {
		name := p.sourceNames[i]
		t0 := time.Now()
		ex, err := src.Extract(ctx, conn, run)
		for i := range ex.Windows {
			ex.Windows[i].Name = name
		}
		connectors.MergeExtracted(&all, ex)
		if err != nil {
			errs = append(errs, err) // connectors name their files and themselves
			continue
		}
		for _, table := range sortedKeys(ex.RowsIn) {
			log.Info("extracted", "step", "extract", "source", name, "table", table, "rows", ex.RowsIn[table],
				"rejected", ex.Rejected[table], "duration", took(t0))
			onStep(Step{Name: "extract", Table: table, Rows: ex.RowsIn[table]})
		}
	}
	errs = append(errs, sharedTags(all.Windows)...)
	return all, errors.Join(errs...)
}

// sharedTags refuses two sources that tag their rows of a table alike: the
// engine keeps a source's earlier rows by its tag, so it would copy the
// other's rows again at each run.
func sharedTags(windows []connectors.Window) []error {
	var errs []error
	seen := map[[2]string]string{}
	for _, w := range windows {
		key := [2]string{w.Table, w.Source}
		if other, ok := seen[key]; ok && other != w.Name {
			errs = append(errs, fmt.Errorf("sources %s and %s both load %s rows tagged %q: uptake could not tell their rows apart; "+
				"configure one source of that kind (one GA4 property) per config", other, w.Name, w.Table, w.Source))
			continue
		}
		seen[key] = w.Name
	}
	return errs
}

func keepRejects(ctx context.Context, conn *sql.Conn, runID string) error {
	_, err := conn.ExecContext(context.WithoutCancel(ctx), `INSERT INTO main.rejects SELECT ?, * FROM temp.load_rejects`, runID)
	if err != nil {
		return fmt.Errorf("keep rejects: %w", err)
	}
	return nil
}
