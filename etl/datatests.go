package etl

// The test step: sql/tests, each a query returning the rows that break a rule.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	uptakesql "github.com/uptake-dev/uptake/sql"
)

// dataTests runs sql/tests: each returns the rows that break its rule. A
// failure quotes the rule and the first offending rows.
func dataTests(ctx context.Context, conn *sql.Conn) error {
	tests, err := uptakesql.Tests()
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range tests {
		bad, n, err := firstRows(ctx, conn, t.SQL, 3)
		if err != nil {
			return fmt.Errorf("sql/tests/%s.sql: %w", t.Name, err)
		}
		if n > 0 {
			errs = append(errs, fmt.Errorf("data test sql/tests/%s.sql failed (%s): %d rows break the rule, e.g. %s",
				t.Name, strings.ReplaceAll(t.Doc, "\n", " "), n, strings.Join(bad, "; ")))
		}
	}
	return errors.Join(errs...)
}

// firstRows returns up to limit rows of q as "col=value" lists, and the row count.
func firstRows(ctx context.Context, conn *sql.Conn, q string, limit int) ([]string, int64, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, 0, err
	}
	var out []string
	var n int64
	for rows.Next() {
		n++
		if len(out) >= limit {
			continue
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, 0, err
		}
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = fmt.Sprintf("%s=%v", c, vals[i])
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out, n, rows.Err()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
