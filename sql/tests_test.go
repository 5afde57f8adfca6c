package sql_test

import (
	"context"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/etl/warehouse"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

// TestNumeratorsWithinDenominatorsFindsEachBreak runs
// sql/tests/test_numerators_within_denominators.sql on small overview and
// salesperson tables, one row breaking each of its rules and one keeping
// them all: it returns exactly the breaking rows, naming their scope.
func TestNumeratorsWithinDenominatorsFindsEachBreak(t *testing.T) {
	query := sqltest.Named(t, uptakesql.Tests, "test_numerators_within_denominators").SQL
	conn := sqltest.Conn(t)
	ctx := context.Background()
	// month (1 to 4 for the breaks, 9 for the row that keeps every rule),
	// active, activated, customers, active users, users.
	const rows = `(DATE '2026-01-01', 5, 4, 6, 1, 2), (DATE '2026-02-01', 3, 4, 3, 1, 2),
		(DATE '2026-03-01', 1, 2, 3, 3, 2), (DATE '2026-09-01', 1, 2, 3, 1, 2)`
	for _, q := range []string{
		`CREATE TABLE kpi_overview_monthly AS SELECT * FROM (VALUES ` + rows + `) t(month, active_customers, activated_customers, customers, active_users, users)`,
		`CREATE TABLE kpi_salesperson_monthly AS SELECT month, 'Alice' AS salesperson, * EXCLUDE (month) FROM kpi_overview_monthly`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	breaks, err := warehouse.Names(ctx, conn, `SELECT scope || ' ' || strftime(month, '%m') FROM (`+query+`) ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	// January: more active than activated; February: more activated than
	// customers; March: more active users than users. September keeps all.
	if want := "overview 01, overview 02, overview 03, salesperson 01, salesperson 02, salesperson 03"; strings.Join(breaks, ", ") != want {
		t.Errorf("rows found: %s\nwant %s", strings.Join(breaks, ", "), want)
	}
}
