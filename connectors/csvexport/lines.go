package csvexport

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/uptake-dev/uptake/connectors"
)

// lineMap turns what DuckDB knows of a row into the physical lines it came
// from. DuckDB numbers records (see lint.go), and gives the number of a
// rejected record only: the k-th accepted row (rowid k) is record
// k + 2 + the number of records without a row before it (DuckDB's rejects
// and blank lines, the skipped table); the structural pass's spans then
// place a record on its physical lines. Both joins are left out when there
// is nothing to shift, as in most files.
type lineMap struct {
	spans, skipped       string // temp tables
	hasSpans, hasSkipped bool
}

// load fills the tables of the map from DuckDB's rejects (when it rejected
// any record) and the pass's result.
func (m *lineMap) load(ctx context.Context, conn *sql.Conn, w connectors.RowWriter, rejects string, anyRejected bool, lint *lintResult) error {
	if len(lint.spans) > 0 {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (rec BIGINT, line BIGINT, lines BIGINT)", m.spans)); err != nil {
			return fmt.Errorf("line map: %w", err)
		}
		rows := make([][]driver.Value, len(lint.spans))
		for i, s := range lint.spans {
			rows[i] = []driver.Value{s.rec, s.line, s.lines}
		}
		if err := w.Append(ctx, m.spans, rows); err != nil {
			return fmt.Errorf("line map: %w", err)
		}
		m.hasSpans = true
	}
	if !anyRejected && len(lint.blanks) == 0 {
		return nil // no record without a row: no shift
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT DISTINCT line FROM %s", m.skipped, rejects)); err != nil {
		return fmt.Errorf("line map: %w", err)
	}
	rows := make([][]driver.Value, len(lint.blanks))
	for i, b := range lint.blanks {
		rows[i] = []driver.Value{b}
	}
	if err := w.Append(ctx, m.skipped, rows); err != nil {
		return fmt.Errorf("line map: %w", err)
	}
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+m.skipped).Scan(&n); err != nil {
		return fmt.Errorf("line map: %w", err)
	}
	m.hasSkipped = n > 0
	return nil
}

// local reports whether the map reads connection-local tables: a select
// through it cannot outlive the connection as a view.
func (m *lineMap) local() bool { return m.hasSpans || m.hasSkipped }

// rowJoins are the joins that rowLine and rowLines need on alias, a
// relation exposing the scan table's rowid as rid.
func (m *lineMap) rowJoins(alias string) string {
	j := ""
	if m.hasSkipped {
		j = fmt.Sprintf(`ASOF LEFT JOIN (
		SELECT thr, max(shift) AS shift FROM (
			SELECT line - row_number() OVER (ORDER BY line) - 1 AS thr, row_number() OVER (ORDER BY line) AS shift
			FROM %s)
		GROUP BY thr) __t ON %s.rid >= __t.thr`, m.skipped, alias)
	}
	return j + " " + m.join(m.rec(alias))
}

// rec is the DuckDB record number of row alias.
func (m *lineMap) rec(alias string) string {
	if m.hasSkipped {
		return fmt.Sprintf("(%s.rid + 2 + coalesce(__t.shift, 0))", alias)
	}
	return fmt.Sprintf("(%s.rid + 2)", alias)
}

// rowLine is the first physical line of row alias (after rowJoins).
func (m *lineMap) rowLine(alias string) string { return m.line(m.rec(alias)) }

// rowLines is the number of physical lines of row alias (after rowJoins).
func (m *lineMap) rowLines(alias string) string { return m.count(m.rec(alias)) }

// join places record number rec (an expression) on its span.
func (m *lineMap) join(rec string) string {
	if !m.hasSpans {
		return ""
	}
	return fmt.Sprintf("ASOF LEFT JOIN %s __l ON %s >= __l.rec", m.spans, rec)
}

// line is the first physical line of record rec (after join).
func (m *lineMap) line(rec string) string {
	if !m.hasSpans {
		return rec
	}
	return fmt.Sprintf("(CASE WHEN __l.rec IS NULL THEN %[1]s ELSE __l.line + (%[1]s - __l.rec) + CASE WHEN %[1]s = __l.rec THEN 0 ELSE __l.lines - 1 END END)", rec)
}

// count is the number of physical lines of record rec (after join).
func (m *lineMap) count(rec string) string {
	if !m.hasSpans {
		return "1"
	}
	return fmt.Sprintf("(CASE WHEN __l.rec = %s THEN __l.lines ELSE 1 END)", rec)
}

// continued is the reason of line first+i of a rejected record of n lines
// (SQL expressions): the reason itself on its first line, saying how many
// lines the record took, and on each following line that it is part of it
// (see continuedReason).
func continued(first, n, i, reason string) string {
	return fmt.Sprintf(`CASE WHEN %[3]s = 0 AND %[2]s = 1 THEN %[4]s
		WHEN %[3]s = 0 THEN %[4]s || '; the record took lines ' || %[1]s || ' to ' || (%[1]s + %[2]s - 1) || ' (' || %[2]s || ' lines)'
		ELSE 'part of the record that starts on line ' || %[1]s || ' (' || %[2]s || ' lines): ' || %[4]s END`, first, n, i, reason)
}

// continuedReason is continued in Go: the reason of line first+i of a
// rejected record of n lines.
func continuedReason(first, n, i int64, reason string) string {
	switch {
	case i == 0 && n == 1:
		return reason
	case i == 0:
		return fmt.Sprintf("%s; the record took lines %d to %d (%d lines)", reason, first, first+n-1, n)
	}
	return fmt.Sprintf("part of the record that starts on line %d (%d lines): %s", first, n, reason)
}
