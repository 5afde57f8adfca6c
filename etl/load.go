package etl

// The load step: the raw tables of the build, from what the sources
// extracted (views of kept files, copies of the rest, history kept across runs).

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/etl/warehouse"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// loadStep opens the run's build schema (the one not live: a failed run
// leaves the previous tables live) and loads the raw tables into it.
func loadStep(ctx context.Context, p *pipeline) ([]any, error) {
	var err error
	if p.build, p.live, err = warehouse.NextBuild(ctx, p.conn); err != nil {
		return nil, err
	}
	if err := warehouse.StartBuild(ctx, p.conn, p.build); err != nil {
		return nil, err
	}
	if p.builder, err = newBuilder(ctx, p.conn, p.build, p.res.RunID, p.opt.FullRefresh, p.vars, p.run.AsOf); err != nil {
		return nil, err
	}
	if err := loadRaw(ctx, p.conn, p.ex, p.builder, p.res, p.log); err != nil {
		return nil, err
	}
	if err := setUsersAsOf(ctx, p.conn, p.vars); err != nil {
		return nil, err
	}
	if err := p.builder.digestRaw(ctx, p.files, p.ex); err != nil {
		return nil, err
	}
	return []any{"rows", sum(p.res.RowsIn)}, nil
}

// loadRaw replaces the raw contract tables with what the sources extracted.
// Rows a run copies (from connection-local relations, or carried over from
// the live tables) go to a table; rows kept across runs in the file cache
// (Extracted.Kept) are read where they are: the raw table is then a view
// of them and of the copied rows.
func loadRaw(ctx context.Context, conn *sql.Conn, ex connectors.Extracted, b *builder, res *Result, log *slog.Logger) error {
	contract, err := uptakesql.Contract()
	if err != nil {
		return err
	}
	for _, m := range contract {
		if !strings.HasPrefix(m.Name, "raw_") {
			continue
		}
		t0 := time.Now()
		if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("contract/%s.sql: %w", m.Name, err)
		}
		copied, kept := ex.Relations[m.Name], ex.Kept[m.Name]
		target := m.Name
		if keptAcrossRuns[m.Name] != "" {
			// The engine compacts these rows: it needs them in tables, a
			// part a month when they all come from kept files (the months
			// whose files did not change are read as they are).
			if len(copied) == 0 && len(kept) > 0 {
				n, err := b.keepRawByMonth(ctx, m.Name, keptAcrossRuns[m.Name], kept)
				if err != nil {
					return err
				}
				if err := logLoaded(ctx, conn, m.Name, len(kept), t0, res, log,
					"months_kept", n.kept, "months_built", n.built, "months_extended", n.extended); err != nil {
					return err
				}
				continue
			}
			copied, kept = append(slices.Clone(copied), kept...), nil
		}
		if len(kept) > 0 {
			target = m.Name + warehouse.PartSuffix
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s RENAME TO %s", m.Name, target)); err != nil {
				return fmt.Errorf("load %s: %w", m.Name, err)
			}
		}
		if err := copyRaw(ctx, conn, m.Name, target, copied, ex.Windows, res); err != nil {
			return err
		}
		if len(kept) > 0 {
			if err := viewRaw(ctx, conn, m.Name, target, kept); err != nil {
				return err
			}
		}
		if err := logLoaded(ctx, conn, m.Name, len(kept), t0, res, log); err != nil {
			return err
		}
	}
	return nil
}

// logLoaded counts and logs a loaded raw table, with more attributes
// (key, value pairs) when given.
func logLoaded(ctx context.Context, conn *sql.Conn, table string, kept int, t0 time.Time, res *Result, log *slog.Logger, more ...any) error {
	n, err := sqltext.Count(ctx, conn, table)
	if err != nil {
		return err
	}
	res.RowsIn[table] = n
	attrs := append([]any{"step", "load", "table", table, "rows", n, "kept_files", kept}, more...)
	log.Info("loaded", append(attrs, "duration", took(t0))...)
	return nil
}

// copyRaw fills target, the table of a raw table's copied rows: this run's
// connection-local relations, then the rows carried over from the live
// table (earlier snapshots, rows outside incremental windows).
func copyRaw(ctx context.Context, conn *sql.Conn, table, target string, relations []string, windows []connectors.Window, res *Result) error {
	cols, err := columns(ctx, conn, target)
	if err != nil {
		return err
	}
	for _, rel := range relations {
		q := fmt.Sprintf("INSERT INTO %s BY NAME SELECT %s FROM %s", target, strings.Join(cols, ", "), rel)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("load %s from %s: %w", table, rel, err)
		}
	}
	if keptAcrossRuns[table] != "" {
		if err := keepHistory(ctx, conn, table, target, keptAcrossRuns[table], cols); err != nil {
			return err
		}
	}
	for _, w := range windows {
		if w.Table != table {
			continue
		}
		if err := keepOutsideWindow(ctx, conn, target, w, w.Source, cols); err != nil {
			return err
		}
		if w.Legacy == "" {
			continue
		}
		// Rows of an older uptake, tagged alike for every source of a kind:
		// carried over under the new tag when one source claims them.
		if claimants := legacyClaimants(windows, w); len(claimants) == 1 {
			if err := keepOutsideWindow(ctx, conn, target, w, w.Legacy, cols); err != nil {
				return err
			}
		} else if claimants[0] == w.Name {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s rows tagged %q by an older uptake cannot be told apart between sources %s: "+
				"those outside this run's windows are dropped; pull them again with uptake run --from (each source's start_date)",
				table, w.Legacy, strings.Join(claimants, ", ")))
		}
	}
	return nil
}

// viewRaw makes table a view of its copied rows (in part, left out when it
// has none) and of the kept relations, each with the contract's columns:
// a column of another type is cast, the others are read as stored (a
// string made anew at each read costs the models memory: 40 M activity
// rows no longer fit in 1.2 GB when every id is cast).
func viewRaw(ctx context.Context, conn *sql.Conn, table, part string, kept []string) error {
	cols, err := sqltext.Columns(ctx, conn, part)
	if err != nil {
		return err
	}
	var names []string
	for _, c := range cols {
		names = append(names, sqltext.Ident(c.Name))
	}
	var selects []string
	n, err := sqltext.Count(ctx, conn, part)
	if err != nil {
		return err
	}
	if n > 0 {
		// A view reads unqualified names in its own schema: the build's.
		selects = append(selects, fmt.Sprintf("SELECT %s FROM %s", strings.Join(names, ", "), part))
	} else if _, err := conn.ExecContext(ctx, "DROP TABLE "+part); err != nil {
		return fmt.Errorf("load %s: %w", table, err)
	}
	types, err := columnTypes(ctx, conn, kept)
	if err != nil {
		return err
	}
	for _, rel := range kept {
		stored := types[rel]
		if len(stored) == 0 {
			return fmt.Errorf("load %s: kept relation %s not found in the warehouse", table, rel)
		}
		sel := make([]string, len(cols))
		for i, c := range cols {
			sel[i] = sqltext.Ident(c.Name)
			if stored[c.Name] != c.Type {
				sel[i] = fmt.Sprintf("CAST(%[1]s AS %[2]s) AS %[1]s", sqltext.Ident(c.Name), c.Type)
			}
		}
		selects = append(selects, fmt.Sprintf("SELECT %s FROM %s", strings.Join(sel, ", "), rel))
	}
	q := fmt.Sprintf("CREATE VIEW %s AS\n%s", table, strings.Join(selects, "\nUNION ALL\n"))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("load %s from kept files: %w", table, err)
	}
	return nil
}

// columnTypes reads the column types of schema-qualified relations in one
// catalog query (duckdb_columns() reads the whole catalog at each call):
// relation → column → type.
func columnTypes(ctx context.Context, conn *sql.Conn, relations []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	if len(relations) == 0 {
		return out, nil
	}
	rows, err := conn.QueryContext(ctx, `SELECT schema_name || '.' || table_name, column_name, data_type FROM duckdb_columns()
		WHERE NOT internal AND schema_name || '.' || table_name IN (`+sqltext.Literals(relations)+`)`)
	if err != nil {
		return nil, fmt.Errorf("columns of kept relations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rel, col, typ string
		if err := rows.Scan(&rel, &col, &typ); err != nil {
			return nil, err
		}
		if out[rel] == nil {
			out[rel] = map[string]string{}
		}
		out[rel][col] = typ
	}
	return out, rows.Err()
}

// keptAcrossRuns are the raw tables whose earlier periods the warehouse
// keeps, with the column that names a period: a users export is a snapshot,
// and the platform may overwrite yesterday's file, while "archived since"
// needs the history.
var keptAcrossRuns = map[string]string{"raw_users": "snapshot_date"} // compaction below assumes user_id

// keepHistory adds to target, the table being built of table, the periods
// the live one has and this run's inputs do not. The history moves with
// the build swap, so it is never lost by a failed run.
func keepHistory(ctx context.Context, conn *sql.Conn, table, target, period string, cols []string) error {
	var live int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_views() WHERE schema_name = 'main' AND view_name = ?`, table).Scan(&live); err != nil {
		return err
	}
	if live > 0 {
		q := fmt.Sprintf("INSERT INTO %[4]s BY NAME SELECT %[2]s FROM main.%[1]s WHERE %[3]s NOT IN (SELECT DISTINCT %[3]s FROM %[4]s)",
			table, strings.Join(cols, ", "), period, target)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("keep earlier %s of %s: %w", period, table, err)
		}
	}
	return compact(ctx, conn, table, target, period)
}

// compact keeps, in target (rows of table), each user's latest row of each
// month: one row a month per user is enough for monthly KPIs, and keeps a
// daily export from growing the table without end (a user gone from later
// snapshots keeps its last row). Snapshots after the as-of date replace
// none (a run as of the 15th reads the snapshot of the 1st, not the
// 20th's). Every run compacts, the first one too: the same files give the
// same table, whatever the warehouse had (what lets a run read a month from
// its part, keepRawByMonth). A month with one period has nothing to
// compact: the months with several are read alone. The rule is
// latestOfMonths' and stays' (a part of users is made compacted, without
// this DELETE: compacted, buildRawMonth).
func compact(ctx context.Context, conn *sql.Conn, table, target, period string) error {
	shared, err := warehouse.Names(ctx, conn, fmt.Sprintf(`SELECT strftime(date_trunc('month', p), '%%Y-%%m-%%d') FROM (SELECT DISTINCT %[2]s AS p FROM %[1]s)
		GROUP BY 1 HAVING count(*) > 1 ORDER BY 1`, target, period))
	if err != nil {
		return fmt.Errorf("compact %s of %s: %w", period, table, err)
	}
	if len(shared) == 0 {
		return nil
	}
	inShared := fmt.Sprintf("date_trunc('month', %s) IN (%s)", period, dateList(shared))
	q := fmt.Sprintf(`DELETE FROM %[1]s AS r USING (%[2]s) l
		WHERE l.user_id = r.user_id AND l.month = date_trunc('month', r.%[3]s) AND NOT %[4]s`,
		target, latestOfMonths(target, period, inShared), period, stays(period))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("compact %s of %s: %w", period, table, err)
	}
	return nil
}

// compacted is the query of the rows of query the compaction keeps (the
// rule compact's DELETE applies to a table).
func compacted(query, period string) string {
	return fmt.Sprintf(`WITH month_rows AS (%[1]s)
		SELECT r.* FROM month_rows r LEFT JOIN (%[2]s) l ON l.user_id = r.user_id AND l.month = date_trunc('month', r.%[3]s)
		WHERE r.user_id IS NULL OR r.%[3]s IS NULL OR %[4]s`, query, latestOfMonths("month_rows", period, "true"), period, stays(period))
}

// latestOfMonths is, for each user and month of rel (where cond holds),
// the latest period on or before the as-of date (kept: NULL when none) and
// the latest period (last). Rows without a user or a period have none.
func latestOfMonths(rel, period, cond string) string {
	return fmt.Sprintf(`SELECT user_id, date_trunc('month', %[2]s) AS month,
			max(%[2]s) FILTER (WHERE %[2]s <= getvariable('as_of')) AS kept, max(%[2]s) AS last
		FROM %[1]s WHERE user_id IS NOT NULL AND %[2]s IS NOT NULL AND %[3]s GROUP BY ALL`, rel, period, cond)
}

// stays is the condition that a row r, joined to l (latestOfMonths) of its
// user and month, is kept by the compaction: it is of the latest period on
// or before the as-of date, or of the latest period when that is after it
// (kept for a run as of a later date).
func stays(period string) string {
	return fmt.Sprintf("(coalesce(r.%[1]s = l.kept, false) OR (r.%[1]s = l.last AND r.%[1]s > getvariable('as_of')))", period)
}

// keepOutsideWindow carries over, from the live table, the rows an
// incremental source pulled in earlier runs outside this run's window:
// days pulled again replace their earlier rows, the others stay. tag is the
// rows' tag in the live table (w.Source, or w.Legacy); they are kept under
// w.Source, in target (the table of the raw table's copied rows).
func keepOutsideWindow(ctx context.Context, conn *sql.Conn, target string, w connectors.Window, tag string, cols []string) error {
	var live int // the live table, with a source column (older warehouses lack it on raw_orders)
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ? AND column_name = 'source'`, w.Table).Scan(&live); err != nil || live == 0 {
		return err
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = c
		if c == sqltext.Ident("source") {
			sel[i] = "$4 AS " + c
		}
	}
	q := fmt.Sprintf(`INSERT INTO %[3]s BY NAME SELECT %[2]s FROM main.%[1]s WHERE source = $1 AND NOT (day BETWEEN $2 AND $3)`, w.Table, strings.Join(sel, ", "), target)
	if _, err := conn.ExecContext(ctx, q, tag, w.From, w.To, w.Source); err != nil {
		return fmt.Errorf("keep earlier %s rows of %s: %w", tag, w.Table, err)
	}
	return nil
}

// legacyClaimants names, in order, the sources whose window of w's table
// claims w's legacy tag.
func legacyClaimants(windows []connectors.Window, w connectors.Window) []string {
	var names []string
	for _, o := range windows {
		if o.Table == w.Table && o.Legacy == w.Legacy && !slices.Contains(names, o.Name) {
			names = append(names, o.Name)
		}
	}
	return names
}

// columns lists a table of the build schema as quoted identifiers.
func columns(ctx context.Context, conn *sql.Conn, table string) ([]string, error) {
	cols, err := sqltext.Columns(ctx, conn, table)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = sqltext.Ident(c.Name)
	}
	return out, nil
}
