package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/uptake-dev/uptake/sql/sqltext"
)

// The warehouse keeps two build schemas. A run rebuilds the one that is not
// live, then Swap points the views of schema main at it in one transaction:
// readers see all the old tables or all the new ones, never a mix.
const (
	Blue  = "blue"
	Green = "green"
)

// NextBuild returns the schema a run should build into (the one not live)
// and the live one ("" before the first successful run).
func NextBuild(ctx context.Context, conn *sql.Conn) (build, live string, err error) {
	err = conn.QueryRowContext(ctx, `SELECT value FROM main.state WHERE key = 'live_schema'`).Scan(&live)
	if errors.Is(err, sql.ErrNoRows) {
		return Blue, "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("warehouse state: %w", err)
	}
	if live == Blue {
		return Green, live, nil
	}
	return Blue, live, nil
}

// StartBuild empties the build schema and makes it the first place
// unqualified names are created in and looked up (then main).
func StartBuild(ctx context.Context, conn *sql.Conn, build string) error {
	for _, q := range []string{
		"DROP SCHEMA IF EXISTS " + sqltext.Ident(build) + " CASCADE",
		"CREATE SCHEMA " + sqltext.Ident(build),
		"SET search_path = " + sqltext.Quote(build+",main"),
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("warehouse: %s: %w", q, err)
		}
	}
	return nil
}

// PartSuffix ends the name of a build table that holds part of a raw
// table's rows, the raw table being a view of it and of the file cache's
// relations: main gets no view of it, nor of any build table whose name
// has a double underscore (the build's own bookkeeping).
const PartSuffix = "__copied"

// Swap makes the build schema live: in one transaction every table (and
// view) of it, but the build's own (a name with "__"),
// gets a view of the same name in main (except main's own bookkeeping
// tables: the runs mart is a published copy of main.runs), views of tables
// it no longer has are dropped, and the state records it. The previous
// build is then dropped. The extra statements run inside the same
// transaction (bookkeeping that must change with the data, such as
// watermarks).
func Swap(ctx context.Context, conn *sql.Conn, build, previous string, extra ...string) error {
	tables, err := Names(ctx, conn, `SELECT table_name FROM duckdb_tables() WHERE schema_name = $1 AND database_name = current_database()
		AND NOT contains(table_name, '__')
		UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = $1 AND NOT internal AND database_name = current_database()
		ORDER BY 1`, build)
	if err != nil {
		return err
	}
	mainTables, err := Names(ctx, conn, `SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND database_name = current_database()`)
	if err != nil {
		return err
	}
	views, err := Names(ctx, conn, `SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal AND database_name = current_database()`)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	stmts := []string{"BEGIN TRANSACTION"}
	for _, t := range tables {
		if bookkept[t] {
			// A published copy of a bookkeeping table (the runs mart): main
			// keeps the table itself, the copy stays in the build schema.
			continue
		}
		keep[t] = true
		if slices.Contains(mainTables, t) {
			stmts = append(stmts, "DROP TABLE main."+sqltext.Ident(t)) // left by an older version
		}
		stmts = append(stmts, fmt.Sprintf("CREATE OR REPLACE VIEW main.%s AS SELECT * FROM %s.%s", sqltext.Ident(t), sqltext.Ident(build), sqltext.Ident(t)))
	}
	for _, v := range views {
		if !keep[v] {
			stmts = append(stmts, "DROP VIEW main."+sqltext.Ident(v))
		}
	}
	stmts = append(stmts, extra...)
	stmts = append(stmts,
		"INSERT OR REPLACE INTO main.state VALUES ('live_schema', "+sqltext.Quote(build)+")",
		"COMMIT")
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return fmt.Errorf("warehouse: swap in %s: %s: %w", build, q, err)
		}
	}
	if previous != "" && previous != build {
		if _, err := conn.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+sqltext.Ident(previous)+" CASCADE"); err != nil {
			return fmt.Errorf("warehouse: drop previous build %s: %w", previous, err)
		}
	}
	return nil
}

// bookkept are main's own tables, never replaced by a build.
var bookkept = map[string]bool{"runs": true, "rejects": true, "state": true, "watermarks": true}
