package etl_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	uptakesql "github.com/uptake-dev/uptake/sql"
)

var update = flag.Bool("update", false, "rewrite the types of sql/marts/schema.yml from the tables built, keeping its descriptions and tests (review the diff by hand)")

// TestOutputSchemasAreFrozen checks every published table's columns (name,
// order, type) against sql/marts/schema.yml. Looker Studio reports break on a
// renamed, reordered, retyped or dropped column: columns may only be added at
// the end, and a breaking change needs a new table name (_v2). The file's
// descriptions and data tests stay as they are; its layout is the one
// Schema.Format writes.
func TestOutputSchemasAreFrozen(t *testing.T) {
	db, _, _ := runFixture(t, "kpi", date(2026, 10, 15))
	path := filepath.Join("..", "sql", "marts", "schema.yml")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile(filepath.Join("..", "sql", "marts", "docs.md"))
	if err != nil {
		t.Fatal(err)
	}
	declared, err := uptakesql.ParseSchemaDocs(text, docs)
	if err != nil {
		t.Fatal(err)
	}
	// What -update keeps: "table" or "table.column" → its description and tests.
	tables := map[string]uptakesql.TableSchema{}
	columns := map[string]uptakesql.Column{}
	for _, m := range declared.Models {
		tables[m.Name] = m
		for _, c := range m.Columns {
			columns[m.Name+"."+c.Name] = c
		}
	}
	// The tables as built in the live schema: main has views of them, except
	// runs, whose name in main is the bookkeeping table the runs mart publishes.
	var live string
	if err := db.QueryRow(`SELECT value FROM main.state WHERE key = 'live_schema'`).Scan(&live); err != nil {
		t.Fatal(err)
	}
	built := uptakesql.Schema{Version: 2}
	for _, table := range uptakesql.Outputs() {
		rows, err := db.Query(`SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND schema_name = ? ORDER BY column_index`, table, live)
		if err != nil {
			t.Fatal(err)
		}
		m := uptakesql.TableSchema{Name: table, Description: tables[table].Description, DataTests: tables[table].DataTests}
		for rows.Next() {
			var c uptakesql.Column
			if err := rows.Scan(&c.Name, &c.DataType); err != nil {
				t.Fatal(err)
			}
			declared := columns[table+"."+c.Name]
			c.Description, c.DataTests = declared.Description, declared.DataTests
			m.Columns = append(m.Columns, c)
		}
		rows.Close()
		built.Models = append(built.Models, m)
	}
	got := built.Format()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(got) != string(text) {
		t.Errorf("published schemas differ from %s: a column was renamed, moved, retyped or dropped (or the file is not laid out as Schema.Format writes it).\ngot:\n%s", path, got)
	}
}
