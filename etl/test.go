package etl

// The test step: sql/tests and the column tests of sql/marts/schema.yml,
// each a query returning the rows that break a rule; then the checks on the
// outputs as a whole (the window they cover, the shrink guard).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/uptake-dev/uptake/etl/warehouse"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// testStep runs the data tests, then checks the outputs: the months they
// cover, no table shrinking past checks.max_shrink_pct, and reads the
// headline and the exclusions the run reports.
func testStep(ctx context.Context, p *pipeline) ([]any, error) {
	conn, res, cfg := p.conn, p.res, p.opt.Config
	kept, err := dataTests(ctx, conn, p.builder, p.log)
	if err != nil {
		return nil, err
	}
	if err := window(ctx, conn, res); err != nil {
		return nil, err
	}
	if err := checkShrink(ctx, conn, cfg, p.opt.AllowShrink, p.opt.ShrinkBaseline, res); err != nil {
		return nil, err
	}
	if res.Headline, err = headline(ctx, conn); err != nil {
		return nil, err
	}
	if res.Excluded, err = excluded(ctx, conn); err != nil {
		return nil, err
	}
	return []any{"tables", len(res.Outputs), "rows", sum(res.RowsOut), "tests_kept", kept}, nil
}

// dataTests runs sql/tests, then the column tests of sql/marts/schema.yml:
// each returns the rows that break its rule. A failure quotes the rule and
// the first offending rows. A test of sql/tests that passed on inputs
// with the same keys as this run's (b's, when given) is not run again: it
// would read the same rows (checking a million users' keys costs a night
// with one more day of activity a tenth of a second). It returns how many
// tests it so kept.
func dataTests(ctx context.Context, conn *sql.Conn, b *builder, log *slog.Logger) (int, error) {
	tests, err := uptakesql.Tests()
	if err != nil {
		return 0, err
	}
	passed, err := b.passedTests(ctx)
	if err != nil {
		return 0, err
	}
	var errs []error
	kept := 0
	passes := map[string]string{} // test → the key it passed on this run
	for _, t := range tests {
		key := b.testKey(t)
		if key != "" && passed[t.Name] == key {
			log.Debug("kept data test", "test", t.Name)
			kept++
			continue
		}
		bad, n, err := firstRows(ctx, conn, t.SQL, 3)
		if err != nil {
			return 0, fmt.Errorf("sql/tests/%s.sql: %w", t.Name, err)
		}
		if n > 0 {
			errs = append(errs, failed("sql/tests/"+t.Name+".sql", strings.ReplaceAll(t.Doc, "\n", " "), n, "rows", bad))
		} else if key != "" {
			passes[t.Name] = key
		}
	}
	if err := b.recordPasses(ctx, passes); err != nil {
		return 0, err
	}
	if err := columnTests(ctx, conn); err != nil {
		errs = append(errs, err)
	}
	return kept, errors.Join(errs...)
}

// testKey is the key of what a data test reads: its SQL, the variables it
// reads, and its inputs' keys; "" (run it) without a builder, or when it
// reads no model or raw table, one without a key, or the clock.
func (b *builder) testKey(t uptakesql.Model) string {
	if b == nil || len(inputs(t)) == 0 || clockRE.MatchString(sqltext.StripComments(t.SQL)) {
		return ""
	}
	for _, in := range inputs(t) {
		if k, ok := b.keys[in]; !ok || (k.whole == "" && !k.monthly) {
			return ""
		}
	}
	return hashOf(b.baseKey(t), b.wholeInputs(t))
}

// clockRE finds a read of the time of day or date, which no key holds.
var clockRE = regexp.MustCompile(`(?i)\b(current_date|current_timestamp|current_time|now|today|get_current_time|get_current_timestamp|localtimestamp|localtime)\b`)

// passedTests maps each data test to the key it last passed on: none
// without a builder, or on --full-refresh (every test runs).
func (b *builder) passedTests(ctx context.Context) (map[string]string, error) {
	passed := map[string]string{}
	if b == nil || b.refresh {
		return passed, nil
	}
	pairs, err := warehouse.Pairs(ctx, b.conn, `SELECT test, key FROM parts.passed`)
	if err != nil {
		return nil, fmt.Errorf("parts: passed tests: %w", err)
	}
	for _, tk := range pairs {
		passed[tk[0]] = tk[1]
	}
	return passed, nil
}

// recordPasses records the key each test of passes passed on (a pass is a
// fact about those inputs, whether or not the run goes on to succeed).
func (b *builder) recordPasses(ctx context.Context, passes map[string]string) error {
	if b == nil || len(passes) == 0 {
		return nil
	}
	var values []string
	for _, test := range slices.Sorted(maps.Keys(passes)) {
		values = append(values, "("+sqltext.Quote(test)+", "+sqltext.Quote(passes[test])+")")
	}
	if err := b.exec(ctx, `DELETE FROM parts.passed WHERE test IN (`+sqltext.Literals(slices.Collect(maps.Keys(passes)))+`)`); err != nil {
		return fmt.Errorf("parts: passed tests: %w", err)
	}
	if err := b.exec(ctx, `INSERT INTO parts.passed VALUES `+strings.Join(values, ", ")); err != nil {
		return fmt.Errorf("parts: passed tests: %w", err)
	}
	return nil
}

// columnTests runs the tests sql/marts/schema.yml declares on the published
// tables (each test's Detect, those of one row at a time in one scan of
// their table); a failed test is run again for its count and first rows.
func columnTests(ctx context.Context, conn *sql.Conn) error {
	tests, err := uptakesql.ColumnTests()
	if err != nil {
		return err
	}
	// The tests of one row at a time share a scan of their table; a test
	// across rows (unique, relationships) has its own, which is faster than
	// a scan computing several.
	type scan struct {
		table string
		tests []int
	}
	var scans []scan
	rowScan := map[string]int{} // table → its scan of row tests
	for i, t := range tests {
		if !t.OneRow {
			scans = append(scans, scan{t.Table, []int{i}})
			continue
		}
		j, ok := rowScan[t.Table]
		if !ok {
			j = len(scans)
			rowScan[t.Table] = j
			scans = append(scans, scan{table: t.Table})
		}
		scans[j].tests = append(scans[j].tests, i)
	}
	var errs []error
	for _, sc := range scans {
		table, ids := sc.table, sc.tests
		detects := make([]string, len(ids))
		found := make([]int64, len(ids))
		ptrs := make([]any, len(ids))
		for j, i := range ids {
			detects[j] = tests[i].Detect
			ptrs[j] = &found[j]
		}
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %s FROM %s", strings.Join(detects, ", "), sqltext.Ident(table))).Scan(ptrs...); err != nil {
			return fmt.Errorf("%s: tests of %s: %w", uptakesql.SchemaFile, table, err)
		}
		for j, i := range ids {
			if found[j] == 0 {
				continue
			}
			t := tests[i]
			bad, n, err := firstRows(ctx, conn, t.SQL, 3)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", uptakesql.SchemaFile, t.Name, err)
			}
			errs = append(errs, failed(t.Name+" of "+uptakesql.SchemaFile, t.Rule, n, t.Counts, bad))
		}
	}
	return errors.Join(errs...)
}

// failed is the error of a data test that found n rows (or repeated
// values: what) breaking its rule, quoting the first ones.
func failed(test, rule string, n int64, what string, first []string) error {
	return fmt.Errorf("data test %s failed (%s): %d %s break the rule, e.g. %s", test, rule, n, what, strings.Join(first, "; "))
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
