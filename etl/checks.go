package etl

// The checks of a run's inputs and outputs: rejected rows, the run's
// window, tables that shrank.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
)

// checkRejects fails the run when the rows rejected for one raw table pass
// checks.max_reject_pct of the rows read for it (per table, so that a broken
// establishments export is not drowned in millions of activity rows), quoting
// the first rejects so the message says what is wrong.
func checkRejects(ctx context.Context, conn *sql.Conn, cfg *config.Config, ex connectors.Extracted, res *Result) error {
	over, within := rejectShares(cfg, ex)
	for _, msg := range within {
		res.Warnings = append(res.Warnings, msg+fmt.Sprintf(", within checks.max_reject_pct = %g %%: see the rejects table", cfg.Checks.MaxRejectPct))
	}
	if len(over) == 0 {
		return nil
	}
	examples, err := rejectExamples(ctx, conn, 5)
	if err != nil {
		return err
	}
	return fmt.Errorf("%s; above checks.max_reject_pct = %g %%: a run stops here and publishes nothing. First rejects:\n%s",
		strings.Join(over, "; "), cfg.Checks.MaxRejectPct, strings.Join(examples, "\n"))
}

// rejectShares says, per raw table with rejected rows, how many of the rows
// read were rejected: over lists the tables past checks.max_reject_pct (a
// run fails), within the others (a warning). uptake validate reports the
// same.
func rejectShares(cfg *config.Config, ex connectors.Extracted) (over, within []string) {
	for _, table := range sortedKeys(ex.RowsRead) {
		read, rejected := ex.RowsRead[table], ex.Rejected[table]
		if rejected == 0 || read == 0 {
			continue
		}
		pct := 100 * float64(rejected) / float64(read)
		msg := fmt.Sprintf("%s: %d of %d rows rejected (%.2f %%)", table, rejected, read, pct)
		if pct > cfg.Checks.MaxRejectPct {
			over = append(over, msg)
		} else {
			within = append(within, msg)
		}
	}
	return over, within
}

func rejectExamples(ctx context.Context, conn *sql.Conn, n int) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT file, coalesce(line, 0), coalesce("column", ''), reason FROM temp.load_rejects ORDER BY file, line LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("read rejects: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var file, col, reason string
		var line int64
		if err := rows.Scan(&file, &line, &col, &reason); err != nil {
			return nil, err
		}
		where := fmt.Sprintf("  %s:%d", file, line)
		if col != "" {
			where += fmt.Sprintf(": column %q", col)
		}
		out = append(out, where+": "+reason)
	}
	return out, rows.Err()
}

func window(ctx context.Context, conn *sql.Conn, res *Result) error {
	var ws, we sql.NullTime
	if err := conn.QueryRowContext(ctx, "SELECT min(month), max(month) FROM stg_months").Scan(&ws, &we); err != nil {
		return fmt.Errorf("window: %w", err)
	}
	res.WindowStart, res.WindowEnd = ws.Time, we.Time
	return nil
}

// checkShrink fails when a table lost more than checks.max_shrink_pct of its
// rows against the last successful run: a truncated export must not replace
// yesterday's tables. A backfill compares a period with the one before it
// (baseline: that run's id, or ShrinkNone for its first period); other runs
// compare with the last successful run that was not a backfill's.
func checkShrink(ctx context.Context, conn *sql.Conn, cfg *config.Config, allow bool, baseline string, res *Result) error {
	if baseline == ShrinkNone {
		return nil
	}
	var in, out sql.NullString
	query := `SELECT rows_in::VARCHAR, rows_out::VARCHAR FROM main.runs WHERE status = 'success' AND trigger <> 'backfill'
		ORDER BY started_at DESC LIMIT 1`
	var args []any
	if baseline != "" {
		query, args = `SELECT rows_in::VARCHAR, rows_out::VARCHAR FROM main.runs WHERE run_id = ?`, []any{baseline}
	}
	err := conn.QueryRowContext(ctx, query, args...).Scan(&in, &out)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("last successful run: %w", err)
	}
	var errs []error
	for _, pair := range []struct {
		prev string
		now  map[string]int64
	}{{in.String, res.RowsIn}, {out.String, res.RowsOut}} {
		prev := map[string]int64{}
		_ = json.Unmarshal([]byte(pair.prev), &prev)
		for _, table := range sortedKeys(prev) {
			before, now := prev[table], pair.now[table]
			if before == 0 {
				continue
			}
			drop := 100 * float64(before-now) / float64(before)
			if drop > cfg.Checks.MaxShrinkPct {
				msg := fmt.Sprintf("%s shrank from %d to %d rows (-%.0f %%, limit checks.max_shrink_pct = %g %%)", table, before, now, drop, cfg.Checks.MaxShrinkPct)
				if allow {
					res.Warnings = append(res.Warnings, msg+", allowed by --allow-shrink")
					continue
				}
				errs = append(errs, errors.New(msg))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w; nothing was published (rerun with --allow-shrink if this is expected)", errors.Join(errs...))
	}
	return nil
}
