package bigquery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	bq "cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// scope is the part of a published table a run replaces: every row (full
// mode, and tables without months), the rows of the run's window on the
// partitioning column (incremental mode), or none (an incremental run
// without months).
type scope struct {
	all, none bool
	col       string // the window's column when neither all nor none
}

func (d *Destination) scopeOf(cols []column, out connectors.Published) scope {
	if d.spec.Mode != "incremental" {
		return scope{all: true}
	}
	if out.WindowStart.IsZero() {
		return scope{none: true}
	}
	if p := partitionColumn(cols); p != "" {
		return scope{col: p}
	}
	return scope{all: true}
}

// googleSQL is the scope as a GoogleSQL condition on the job's parameters.
func (sc scope) googleSQL(incremental bool) string {
	switch {
	case sc.none:
		return "FALSE"
	case sc.col != "":
		return fmt.Sprintf("`%s` BETWEEN @window_start AND @window_end", sc.col)
	case incremental:
		// Always true; it names the job's parameters because the BigQuery
		// emulator skips a DML statement that leaves them unused.
		return "@window_start <= @window_end"
	}
	return "TRUE"
}

// params are the window's query parameters (none in full mode or without months).
func (d *Destination) params(out connectors.Published) []bq.QueryParameter {
	if d.spec.Mode != "incremental" || out.WindowStart.IsZero() {
		return nil
	}
	return []bq.QueryParameter{
		{Name: "window_start", Value: civilDate(out.WindowStart)},
		{Name: "window_end", Value: civilDate(windowEnd(out))},
	}
}

// windowEnd is the window's last day.
func windowEnd(out connectors.Published) time.Time { return out.WindowEnd.AddDate(0, 1, -1) }

// localCount counts the rows of the run's table (in DuckDB) in scope: the
// rows the transaction inserts.
func localCount(ctx context.Context, conn *sql.Conn, table string, sc scope, out connectors.Published) (int64, error) {
	q := "SELECT COUNT(*) FROM " + sqltext.Ident(table)
	switch {
	case sc.none:
		return 0, nil
	case sc.col != "":
		q += fmt.Sprintf(" WHERE %s BETWEEN DATE '%s' AND DATE '%s'", sqltext.Ident(sc.col),
			out.WindowStart.Format("2006-01-02"), windowEnd(out).Format("2006-01-02"))
	}
	var n int64
	if err := conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows of %s: %w", table, err)
	}
	return n, nil
}

// publishedCount counts the rows of a published table in scope, with a
// COUNT(*) query; md is nil when the table is not published yet.
func (d *Destination) publishedCount(ctx context.Context, c *bq.Client, table string, sc scope, out connectors.Published) (n int64, md *bq.TableMetadata, err error) {
	err = d.backoff.Do(ctx, "table "+table, retryable, func(ctx context.Context) (err error) {
		md, err = c.Dataset(d.spec.Dataset).Table(table).Metadata(ctx)
		if isNotFound(err) {
			md, err = nil, nil
		}
		return err
	})
	if err != nil || md == nil {
		return 0, nil, err
	}
	n, err = d.countRows(ctx, c, table, sc.googleSQL(d.spec.Mode == "incremental"), d.params(out))
	return n, md, err
}

// countRows counts the rows of a table that exists where cond holds.
func (d *Destination) countRows(ctx context.Context, c *bq.Client, table, cond string, params []bq.QueryParameter) (n int64, err error) {
	q := c.Query(fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s", d.ref(table), cond))
	q.Location = d.spec.Location
	q.Parameters = params
	err = d.backoff.Do(ctx, "count rows of "+table, retryable, func(ctx context.Context) error {
		it, err := q.Read(ctx)
		if err != nil {
			return err
		}
		var row []bq.Value
		if err := it.Next(&row); err != nil {
			if err == iterator.Done {
				return fmt.Errorf("COUNT(*) of %s returned no row", table)
			}
			return err
		}
		if len(row) != 1 {
			return fmt.Errorf("COUNT(*) of %s returned %v", table, row)
		}
		v, ok := row[0].(int64)
		if !ok {
			return fmt.Errorf("COUNT(*) of %s returned %v", table, row)
		}
		n = v
		return nil
	})
	return n, err
}

// inWindow says which rows a count covers, for messages.
func (d *Destination) inWindow(sc scope, out connectors.Published) string {
	if sc.col == "" {
		return ""
	}
	return fmt.Sprintf(" with %s from %s to %s", sc.col, out.WindowStart.Format("2006-01-02"), windowEnd(out).Format("2006-01-02"))
}

// checkTables checks every table before any is changed: its new schema
// against the published one (columns are only added, types kept), and its
// rows against the rows published now (in incremental mode: within the
// run's window, the only rows replaced). The shrink guard refuses, unless
// run.AllowShrink, a drop larger than run.MaxShrinkPct (not in a backfill,
// which publishes older, smaller months on purpose), and an empty result
// replacing a non-empty one whatever the limit. It returns the rows each
// table will have in scope once published, for the read-back.
func (d *Destination) checkTables(ctx context.Context, c *bq.Client, conn *sql.Conn, run connectors.Run, out connectors.Published, datasetExists bool) (map[string]int64, error) {
	want := map[string]int64{}
	var problems []string
	shrinks := false
	for _, table := range out.Tables {
		cols, err := tableColumns(ctx, conn, table)
		if err != nil {
			return nil, err
		}
		schema, err := schemaFor(cols, out.Docs[table])
		if err != nil {
			return nil, fmt.Errorf("bigquery: table %s: %w", table, err)
		}
		sc := d.scopeOf(cols, out)
		n, err := localCount(ctx, conn, table, sc, out)
		if err != nil {
			return nil, err
		}
		want[table] = n
		if !datasetExists {
			continue
		}
		name := d.spec.TablePrefix + table
		before, md, err := d.publishedCount(ctx, c, name, sc, out)
		if err != nil {
			return nil, d.explain(err)
		}
		if md != nil {
			if _, err := mergeSchema(name, md.Schema, schema); err != nil {
				problems = append(problems, err.Error())
			}
		}
		if p := d.shrinkProblem(run, name, md != nil, before, n, sc, out); p != "" {
			problems = append(problems, p)
			shrinks = true
		}
	}
	if shrinks {
		problems = append(problems, "If the drop is expected, run again with --allow-shrink")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("bigquery: nothing was published to %s:\n  %s", d.spec.String(), strings.Join(problems, "\n  "))
	}
	return want, nil
}

// shrinkProblem says why replacing before rows with n would break the
// shrink guard ("" when it would not).
func (d *Destination) shrinkProblem(run connectors.Run, name string, exists bool, before, n int64, sc scope, out connectors.Published) string {
	if !exists || before == 0 || n >= before || run.AllowShrink {
		if exists && n < before {
			run.Logger.Warn("table shrinks (allowed by --allow-shrink)", "step", "publish", "destination", "bigquery", "table", name, "rows_before", before, "rows_after", n)
		}
		return ""
	}
	drop := float64(before-n) * 100 / float64(before)
	switch {
	case n == 0:
		return fmt.Sprintf("table %s would be emptied: 0 rows would replace its %d rows%s (an empty result never replaces a non-empty table without --allow-shrink)",
			name, before, d.inWindow(sc, out))
	case drop > run.MaxShrinkPct && !run.Backfill: // a backfill's older months are smaller, never empty
		return fmt.Sprintf("table %s would shrink from %d to %d rows%s (-%.1f %%, limit checks.max_shrink_pct = %g %%)",
			name, before, n, d.inWindow(sc, out), drop, run.MaxShrinkPct)
	}
	return ""
}

// checkStaged counts every staging table after its load, before the
// transaction: a load that kept more or fewer rows than the run's table
// (while reporting success) fails the run with nothing published.
func (d *Destination) checkStaged(ctx context.Context, c *bq.Client, conn *sql.Conn, loaded []staged, out connectors.Published) error {
	var problems []error
	for _, s := range loaded {
		want, err := localCount(ctx, conn, s.table, scope{all: true}, out)
		if err != nil {
			return err
		}
		got, err := d.countRows(ctx, c, s.stage, "TRUE", nil) // just loaded: no existence check
		if err != nil {
			return d.explain(fmt.Errorf("bigquery: counting %s after its load: %w", s.stage, err))
		}
		if got != want {
			problems = append(problems, fmt.Errorf("staging table %s holds %d rows after its load, the run's table %s has %d", s.stage, got, s.table, want))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("bigquery: nothing was published to %s: a load did not keep the rows it reported: %w", d.spec.String(), errors.Join(problems...))
	}
	return nil
}

// readBack counts the rows of every published table in scope after the
// transaction and fails when one differs from what the run published.
func (d *Destination) readBack(ctx context.Context, c *bq.Client, loaded []staged, want map[string]int64, out connectors.Published) error {
	var problems []error
	for _, s := range loaded {
		sc := d.scopeOf(s.cols, out)
		got, err := d.countRows(ctx, c, s.published, sc.googleSQL(d.spec.Mode == "incremental"), d.params(out)) // just published
		if err != nil {
			return d.explain(fmt.Errorf("bigquery: reading back %s after publishing: %w", s.published, err))
		}
		if got != want[s.table] {
			problems = append(problems, fmt.Errorf("table %s holds %d rows%s after publishing, the run published %d", s.published, got, d.inWindow(sc, out), want[s.table]))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("bigquery: the published tables in %s do not hold what the run published (the transaction committed; re-run to replace them): %w",
			d.spec.String(), errors.Join(problems...))
	}
	return nil
}
