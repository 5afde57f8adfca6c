package etl_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	uptakesql "github.com/uptake-dev/uptake/sql"
)

var update = flag.Bool("update", false, "rewrite sql/marts/schema.yml from the tables built (review the diff by hand)")

// TestOutputSchemasAreFrozen checks every published table's columns (name,
// order, type) against sql/marts/schema.yml. Looker Studio reports break on a
// renamed, reordered, retyped or dropped column: columns may only be added at
// the end, and a breaking change needs a new table name (_v2).
func TestOutputSchemasAreFrozen(t *testing.T) {
	db, _, _ := runFixture(t, "kpi", date(2026, 10, 15))
	var b strings.Builder
	b.WriteString("# Frozen schemas of the published tables (checked by etl/schema_test.go).\n")
	b.WriteString("# Add columns only at the end of a table; a breaking change gets a new table name (_v2).\n")
	// The tables as built in the live schema: main has views of them, except
	// runs, whose name in main is the bookkeeping table the runs mart publishes.
	var live string
	if err := db.QueryRow(`SELECT value FROM main.state WHERE key = 'live_schema'`).Scan(&live); err != nil {
		t.Fatal(err)
	}
	for _, table := range uptakesql.Outputs() {
		rows, err := db.Query(`SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND schema_name = ? ORDER BY column_index`, table, live)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:\n", table)
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "  - %s: %s\n", name, typ)
		}
		rows.Close()
	}
	path := filepath.Join("..", "sql", "marts", "schema.yml")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./etl -run Schema -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("published schemas differ from %s: a column was renamed, moved, retyped or dropped.\ngot:\n%s", path, got)
	}
}
