// Package sqltext writes the SQL text uptake sends DuckDB (literals,
// identifiers, names made of config names) and reads what the catalog says
// of a table (its columns, its row count). It needs database/sql only: the
// connectors use it without the warehouse or the DuckDB driver.
package sqltext

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
)

// Quote returns s as a SQL string literal.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Literals returns ss as SQL string literals separated by commas, for an
// IN list or a list literal.
func Literals(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = Quote(s)
	}
	return strings.Join(q, ", ")
}

// Ident returns s as a quoted SQL identifier.
func Ident(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Count returns the number of rows of a table.
func Count(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, table string) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// Column is a column of a table: its name and DuckDB type.
type Column struct {
	Name, Type string
}

// Columns lists a table or view, in order: "schema.name",
// "catalog.schema.name" (temp.main.name for a temporary table), or a name
// of the current schema (the run's build schema during a run). One that
// does not exist is an error. It asks the table itself (pragma_table_info),
// not duckdb_columns(), which lists every column of the catalog at each
// call: a warehouse of a few hundred parts made that a few milliseconds a
// call.
func Columns(ctx context.Context, conn *sql.Conn, table string) ([]Column, error) {
	names := strings.SplitN(table, ".", 3)
	if len(names) == 1 {
		var schema string
		if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		names = []string{schema, table}
	}
	for i, n := range names {
		names[i] = Ident(n)
	}
	rows, err := conn.QueryContext(ctx, `SELECT name, type FROM pragma_table_info(?) ORDER BY cid`, strings.Join(names, "."))
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return nil, fmt.Errorf("table %s not found in the warehouse", table)
		}
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s not found in the warehouse", table)
	}
	return cols, nil
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// SafeName turns a config name (a source's, a run id) into letters, digits
// and underscores, for table names.
func SafeName(s string) string { return nonWord.ReplaceAllString(s, "_") }

var lineCommentRE = regexp.MustCompile(`--[^\n]*`)

// StripComments removes the line comments of a SQL text ("--" to the end of
// the line; a "--" inside a string literal is taken for one too).
func StripComments(q string) string { return lineCommentRE.ReplaceAllString(q, "") }
