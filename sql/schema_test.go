package sql_test

import (
	"context"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

// TestEachKindOfColumnTestFindsTheRowsThatBreakIt runs every kind of test
// schema.yml may declare on a small table, where the rows that break each
// are known: the query of a test returns exactly those, and nothing on a
// table that keeps the rule.
func TestEachKindOfColumnTestFindsTheRowsThatBreakIt(t *testing.T) {
	schema, err := uptakesql.ParseSchema([]byte(`version: 2
models:
  - name: t
    data_tests:
      - unique_combination_of_columns: {combination_of_columns: [month, ref]}
    columns:
      - name: month
        data_type: DATE
        data_tests: [not_null]
      - name: ref
        data_type: VARCHAR
        data_tests:
          - relationships: {to: refs, field: ref}
      - name: id
        data_type: INTEGER
        data_tests: [unique]
      - name: stage
        data_type: VARCHAR
        data_tests:
          - accepted_values: {values: [setup, discovery]}
      - name: rate
        data_type: DOUBLE
        data_tests:
          - accepted_range: {min_value: 0, max_value: 1}
  - name: refs
    columns:
      - name: ref
        data_type: VARCHAR
`))
	if err != nil {
		t.Fatal(err)
	}
	db := sqltest.DB(t)
	for _, q := range []string{
		`CREATE TABLE refs AS SELECT * FROM (VALUES ('A'), ('B'), (NULL)) v(ref)`,
		// Row by row: 1 good; 2 a NULL month; 3 same month and ref as 1, and
		// id 1 again; 4 ref C unknown; 5 stage 'activation'; 6 rate 1.5;
		// 7 rate -0.1; 8 NULLs where a test allows them (ref, stage, rate).
		`CREATE TABLE t AS SELECT * FROM (VALUES
			(DATE '2026-01-01', 'A', 1, 'setup', 0.5),
			(NULL, 'B', 2, 'setup', 0.0),
			(DATE '2026-01-01', 'A', 1, 'discovery', 1.0),
			(DATE '2026-02-01', 'C', 4, 'setup', 0.2),
			(DATE '2026-03-01', 'A', 5, 'activation', 0.2),
			(DATE '2026-04-01', 'A', 6, 'setup', 1.5),
			(DATE '2026-05-01', 'A', 7, 'setup', -0.1),
			(DATE '2026-06-01', NULL, 8, NULL, NULL)) v(month, ref, id, stage, rate)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{ // test → rows that break it
		"t unique_combination_of_columns": 1, // (2026-01-01, A), twice
		"t.month not_null":                1, // row 2
		"t.ref relationships":             1, // row 4 (C); a NULL ref is no reference
		"t.id unique":                     1, // id 1, twice
		"t.stage accepted_values":         1, // row 5
		"t.rate accepted_range":           2, // rows 6 and 7
	}
	tests := schema.Tests()
	if len(tests) != len(want) {
		t.Fatalf("%d tests, want %d", len(tests), len(want))
	}
	for _, ct := range tests {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM (" + ct.SQL + ")").Scan(&n); err != nil {
			t.Fatalf("%s: %v\n%s", ct.Name, err, ct.SQL)
		}
		if n != want[ct.Name] {
			t.Errorf("%s (%s): %d rows, want %d", ct.Name, ct.Rule, n, want[ct.Name])
		}
		var found int
		if err := db.QueryRow("SELECT " + ct.Detect + " FROM " + ct.Table).Scan(&found); err != nil || found == 0 {
			t.Errorf("%s: its scan of %s found %d (%v), want more than 0", ct.Name, ct.Table, found, err)
		}
	}
	// The same tests on the good rows only find nothing.
	if _, err := db.Exec(`DELETE FROM t WHERE id <> 1 OR stage <> 'setup'`); err != nil {
		t.Fatal(err)
	}
	for _, ct := range tests {
		var n, found int
		if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM ("+ct.SQL+")").Scan(&n); err != nil || n != 0 {
			t.Errorf("%s on a table that keeps it: %d rows (%v)", ct.Name, n, err)
		}
		if err := db.QueryRow("SELECT " + ct.Detect + " FROM " + ct.Table).Scan(&found); err != nil || found != 0 {
			t.Errorf("%s on a table that keeps it: its scan found %d (%v)", ct.Name, found, err)
		}
	}
}

// TestASchemaWithAWrongTestIsRefused: an unknown test, a test without the
// arguments it needs, a table's test on a column (or the reverse) or a
// relationship to a column no table has is an error naming the file and
// the column.
func TestASchemaWithAWrongTestIsRefused(t *testing.T) {
	for _, tc := range []struct{ tests, want string }{
		{"[not_empty]", `t.a: unknown test "not_empty"`},
		{"[accepted_values]", "t.a: accepted_values needs values"},
		{"[accepted_range]", "t.a: accepted_range needs min_value or max_value"},
		{"[relationships]", "t.a: relationships needs to: (a table) and field: (its column)"},
		{"[{relationships: {to: t, field: b}}]", "t.a: relationships: no column b in t"},
		{"[{unique_combination_of_columns: {combination_of_columns: [a]}}]", "t.a: unique_combination_of_columns is a test of a table"},
		{"[{accepted_range: {min: 0}}]", "field min not found"},
	} {
		text := "version: 2\nmodels:\n  - name: t\n    columns:\n      - name: a\n        data_type: DOUBLE\n        data_tests: " + tc.tests + "\n"
		_, err := uptakesql.ParseSchema([]byte(text))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), uptakesql.SchemaFile) {
			t.Errorf("%s: %v, want an error of %s with %q", tc.tests, err, uptakesql.SchemaFile, tc.want)
		}
	}
	_, err := uptakesql.ParseSchema([]byte("version: 2\nmodels:\n  - name: t\n    data_tests: [not_null]\n    columns: []\n"))
	if err == nil || !strings.Contains(err.Error(), "t: not_null is a test of a column") {
		t.Errorf("a column's test on a table: %v", err)
	}
}

// TestTheShippedSchemaDeclaresTests: the embedded schema.yml parses and
// declares tests on every published table (etl/schema_test.go checks its
// types and layout against the tables built).
func TestTheShippedSchemaDeclaresTests(t *testing.T) {
	s, err := uptakesql.ReadSchema()
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]bool{}
	for _, ct := range s.Tests() {
		tables[strings.Fields(strings.SplitN(ct.Name, ".", 2)[0])[0]] = true
	}
	for _, out := range uptakesql.Outputs() {
		if !tables[out] {
			t.Errorf("%s declares no data test on %s", uptakesql.SchemaFile, out)
		}
	}
}

// TestASchemaWrittenReadsBackTheSame: Format writes a schema that parses
// into the same tests, values YAML would misread quoted.
func TestASchemaWrittenReadsBackTheSame(t *testing.T) {
	zero, one := 0.0, 1.0
	s := uptakesql.Schema{Version: 2, Models: []uptakesql.TableSchema{{
		Name:      "t",
		DataTests: []uptakesql.DataTest{{Kind: "unique_combination_of_columns", Args: uptakesql.TestArgs{CombinationOfColumns: []string{"a", "b"}}}},
		Columns: []uptakesql.Column{
			{Name: "a", DataType: "VARCHAR", DataTests: []uptakesql.DataTest{{Kind: "not_null"}, {Kind: "unique"}}},
			{Name: "b", DataType: "VARCHAR", DataTests: []uptakesql.DataTest{
				{Kind: "accepted_values", Args: uptakesql.TestArgs{Values: []string{"plain", "a, b", "x: y", "[z]", "true", "", " padded", `say "hi"`}}},
				{Kind: "relationships", Args: uptakesql.TestArgs{To: "t", Field: "a"}},
			}},
			{Name: "c", DataType: "DOUBLE", DataTests: []uptakesql.DataTest{{Kind: "accepted_range", Args: uptakesql.TestArgs{MinValue: &zero, MaxValue: &one}}}},
		},
	}}}
	text := s.Format()
	back, err := uptakesql.ParseSchema(text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if got := back.Format(); string(got) != string(text) {
		t.Errorf("read back, written again:\n%s\nfirst written:\n%s", got, text)
	}
	vals := back.Models[0].Columns[1].DataTests[0].Args.Values
	if strings.Join(vals, "|") != `plain|a, b|x: y|[z]|true|| padded|say "hi"` {
		t.Errorf("values read back: %q\n%s", vals, text)
	}
}
