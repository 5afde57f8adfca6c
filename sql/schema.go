package sql

// The published tables' schema file, marts/schema.yml, in dbt's layout: each
// table's description and its columns in order with their descriptions (see
// docs.go), their types (frozen: etl/schema_test.go
// checks them against the tables built) and the data tests declared on
// them, which a run executes after the models, as it does sql/tests.

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/uptake-dev/uptake/sql/sqltext"
)

// SchemaFile is where the schema file is, for messages.
const SchemaFile = "sql/marts/schema.yml"

// Schema is the content of marts/schema.yml.
type Schema struct {
	Version int           `yaml:"version"`
	Models  []TableSchema `yaml:"models"`

	blocks map[string]string // the docs blocks of marts/docs.md, by name
}

// TableSchema is one published table.
type TableSchema struct {
	Name string `yaml:"name"`
	// Description says what one row is and who reads the table (markdown).
	Description string `yaml:"description,omitempty"`
	// DataTests are the table's tests (unique_combination_of_columns).
	DataTests []DataTest `yaml:"data_tests,omitempty"`
	Columns   []Column   `yaml:"columns"`
}

// Column is one column of a published table.
type Column struct {
	Name string `yaml:"name"`
	// Description is "**Label**: definition" (markdown), or a reference to a
	// docs block of marts/docs.md, '{{ doc("name") }}'.
	Description string `yaml:"description,omitempty"`
	DataType    string `yaml:"data_type"`
	// DataTests are the column's tests.
	DataTests []DataTest `yaml:"data_tests,omitempty"`
}

// DataTest is one test, as dbt writes them: a bare name (not_null, unique)
// or a name with its arguments (accepted_values: {values: [...]},
// accepted_range: {min_value: 0, max_value: 1}, relationships: {to: table,
// field: column}, unique_combination_of_columns: {combination_of_columns:
// [...]}).
type DataTest struct {
	Kind string
	Args TestArgs
}

// TestArgs are the arguments of a DataTest.
type TestArgs struct {
	Values               []string `yaml:"values,omitempty"`
	MinValue             *float64 `yaml:"min_value,omitempty"`
	MaxValue             *float64 `yaml:"max_value,omitempty"`
	To                   string   `yaml:"to,omitempty"`
	Field                string   `yaml:"field,omitempty"`
	CombinationOfColumns []string `yaml:"combination_of_columns,omitempty"`
}

// UnmarshalYAML reads a test written as a name or as {name: arguments}.
func (t *DataTest) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		t.Kind = n.Value
		return nil
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			return fmt.Errorf("line %d: a test is one name with its arguments", n.Line)
		}
		t.Kind = n.Content[0].Value
		dec := n.Content[1]
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		if err := enc.Encode(dec); err != nil {
			return err
		}
		d := yaml.NewDecoder(&buf)
		d.KnownFields(true)
		if err := d.Decode(&t.Args); err != nil {
			return fmt.Errorf("line %d: %s: %w", n.Line, t.Kind, err)
		}
		return nil
	}
	return fmt.Errorf("line %d: a test is a name, or a name with its arguments", n.Line)
}

// MarshalYAML writes a test as dbt does.
func (t DataTest) MarshalYAML() (any, error) {
	if t.Args.empty() {
		return t.Kind, nil
	}
	return map[string]TestArgs{t.Kind: t.Args}, nil
}

func (a TestArgs) empty() bool {
	return a.Values == nil && a.MinValue == nil && a.MaxValue == nil && a.To == "" && a.Field == "" && a.CombinationOfColumns == nil
}

// ReadSchema returns the embedded marts/schema.yml, with the docs blocks of
// marts/docs.md its descriptions use. It is read once per process (the
// column tests, the publish, the report and the run summary all read it):
// callers share it and must not change it.
func ReadSchema() (Schema, error) { return embeddedSchema() }

var embeddedSchema = sync.OnceValues(func() (Schema, error) {
	b, err := files.ReadFile("marts/schema.yml")
	if err != nil {
		return Schema{}, err
	}
	docs, err := files.ReadFile("marts/docs.md")
	if err != nil {
		return Schema{}, err
	}
	return ParseSchemaDocs(b, docs)
})

// ParseSchema reads a schema file's text and checks its tests: each known,
// with the arguments it needs, on a column of the table. Without docs.md,
// a description that uses a docs block is refused: ParseSchemaDocs reads
// both.
func ParseSchema(b []byte) (Schema, error) {
	return ParseSchemaDocs(b, nil)
}

// ParseSchemaDocs reads a schema file and the docs file beside it: the
// tests are checked as ParseSchema does, and each doc reference must have
// its block, each block a reference.
func ParseSchemaDocs(schema, docs []byte) (Schema, error) {
	var s Schema
	d := yaml.NewDecoder(bytes.NewReader(schema))
	d.KnownFields(true)
	if err := d.Decode(&s); err != nil {
		return Schema{}, fmt.Errorf("%s: %w", SchemaFile, err)
	}
	if _, err := s.compile(); err != nil {
		return Schema{}, err
	}
	blocks, err := parseDocBlocks(docs)
	if err != nil {
		return Schema{}, err
	}
	s.blocks = blocks
	if err := s.checkDocs(); err != nil {
		return Schema{}, err
	}
	return s, nil
}

// hasColumn says whether table has column.
func (s Schema) hasColumn(table, column string) bool {
	for _, m := range s.Models {
		for _, c := range m.Columns {
			if m.Name == table && c.Name == column {
				return true
			}
		}
	}
	return false
}

// ColumnTest is a test of schema.yml made a query returning the rows that
// break it.
type ColumnTest struct {
	// Name says where it is declared: "customer_monthly.usage_pct accepted_range".
	Name string
	// Rule is the test in words.
	Rule string
	// Counts names what SQL returns one row per: "rows" (that break the
	// rule) or "repeated values" (of a unique test).
	Counts string
	// Table is the table tested.
	Table string
	// Detect is an aggregate over Table that is above 0 when a row breaks
	// the test; SQL runs only for a test that failed.
	Detect string
	// OneRow says the test looks at one row at a time (not_null,
	// accepted_values, accepted_range): such tests of a table can share
	// one scan.
	OneRow bool
	// SQL returns the rows that break the rule.
	SQL string
}

// ColumnTests returns the data tests schema.yml declares.
func ColumnTests() ([]ColumnTest, error) {
	s, err := ReadSchema()
	if err != nil {
		return nil, err
	}
	return s.Tests(), nil
}

// Tests returns the schema's data tests as queries, table by table.
func (s Schema) Tests() []ColumnTest {
	tests, _ := s.compile() // checked by ParseSchema
	return tests
}

// compile makes each test a query, or fails naming the first wrong one.
func (s Schema) compile() ([]ColumnTest, error) {
	var out []ColumnTest
	for _, m := range s.Models {
		cols := map[string]bool{}
		for _, c := range m.Columns {
			cols[c.Name] = true
		}
		for _, t := range m.DataTests {
			q, err := t.query(m.Name, "", cols)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", SchemaFile, m.Name, err)
			}
			out = append(out, ColumnTest{Name: m.Name + " " + t.Kind, Rule: t.rule(""), Counts: t.counts(), Table: m.Name, Detect: t.detect(""), SQL: q})
		}
		for _, c := range m.Columns {
			for _, t := range c.DataTests {
				q, err := t.query(m.Name, c.Name, cols)
				if err != nil {
					return nil, fmt.Errorf("%s: %s.%s: %w", SchemaFile, m.Name, c.Name, err)
				}
				if t.Kind == "relationships" && !s.hasColumn(t.Args.To, t.Args.Field) {
					return nil, fmt.Errorf("%s: %s.%s: relationships: no column %s in %s", SchemaFile, m.Name, c.Name, t.Args.Field, t.Args.To)
				}
				out = append(out, ColumnTest{Name: m.Name + "." + c.Name + " " + t.Kind, Rule: t.rule(c.Name), Counts: t.counts(), Table: m.Name,
					Detect: t.detect(c.Name), OneRow: t.oneRow(), SQL: q})
			}
		}
	}
	return out, nil
}

// query is the SELECT returning the rows of table that break the test,
// declared on column (empty for a table's test).
func (t DataTest) query(table, column string, cols map[string]bool) (string, error) {
	tbl, col := sqltext.Ident(table), sqltext.Ident(column)
	onColumn := func() error {
		if column == "" {
			return fmt.Errorf("%s is a test of a column", t.Kind)
		}
		return nil
	}
	switch t.Kind {
	case "not_null":
		if err := onColumn(); err != nil {
			return "", err
		}
		return fmt.Sprintf("SELECT * FROM %s WHERE %s", tbl, t.bad(column)), nil
	case "unique":
		if err := onColumn(); err != nil {
			return "", err
		}
		return fmt.Sprintf("SELECT %s, count(*) AS rows FROM %s WHERE %s IS NOT NULL GROUP BY ALL HAVING count(*) > 1", col, tbl, col), nil
	case "accepted_values":
		if err := onColumn(); err != nil {
			return "", err
		}
		if len(t.Args.Values) == 0 {
			return "", fmt.Errorf("accepted_values needs values: [...]")
		}
		return fmt.Sprintf("SELECT * FROM %s WHERE %s", tbl, t.bad(column)), nil
	case "accepted_range":
		if err := onColumn(); err != nil {
			return "", err
		}
		if t.Args.MinValue == nil && t.Args.MaxValue == nil {
			return "", fmt.Errorf("accepted_range needs min_value or max_value")
		}
		return fmt.Sprintf("SELECT * FROM %s WHERE %s", tbl, t.bad(column)), nil
	case "relationships":
		if err := onColumn(); err != nil {
			return "", err
		}
		if t.Args.To == "" || t.Args.Field == "" {
			return "", fmt.Errorf("relationships needs to: (a table) and field: (its column)")
		}
		return fmt.Sprintf("SELECT * FROM %s WHERE %s IS NOT NULL AND %s NOT IN (SELECT %s FROM %s WHERE %s IS NOT NULL)",
			tbl, col, col, sqltext.Ident(t.Args.Field), sqltext.Ident(t.Args.To), sqltext.Ident(t.Args.Field)), nil
	case "unique_combination_of_columns":
		if column != "" {
			return "", fmt.Errorf("unique_combination_of_columns is a test of a table")
		}
		if len(t.Args.CombinationOfColumns) == 0 {
			return "", fmt.Errorf("unique_combination_of_columns needs combination_of_columns: [...]")
		}
		var ids []string
		for _, c := range t.Args.CombinationOfColumns {
			if !cols[c] {
				return "", fmt.Errorf("unique_combination_of_columns: no column %q", c)
			}
			ids = append(ids, sqltext.Ident(c))
		}
		return fmt.Sprintf("SELECT %s, count(*) AS rows FROM %s GROUP BY ALL HAVING count(*) > 1", strings.Join(ids, ", "), tbl), nil
	}
	return "", fmt.Errorf("unknown test %q (known: not_null, unique, accepted_values, accepted_range, relationships, unique_combination_of_columns)", t.Kind)
}

// counts names what the test's SQL returns one row per.
func (t DataTest) counts() string {
	if t.Kind == "unique" || t.Kind == "unique_combination_of_columns" {
		return "repeated values"
	}
	return "rows"
}

// oneRow says whether the test looks at one row at a time.
func (t DataTest) oneRow() bool {
	return t.Kind == "not_null" || t.Kind == "accepted_values" || t.Kind == "accepted_range"
}

// detect is an aggregate over the table that is above 0 when a row breaks
// the test.
func (t DataTest) detect(column string) string {
	col := sqltext.Ident(column)
	switch t.Kind {
	case "unique":
		return fmt.Sprintf("count(%s) - count(DISTINCT %s)", col, col)
	case "unique_combination_of_columns":
		fields := make([]string, len(t.Args.CombinationOfColumns))
		for i, c := range t.Args.CombinationOfColumns {
			fields[i] = fmt.Sprintf("%s: %s", sqltext.Quote(c), sqltext.Ident(c))
		}
		return fmt.Sprintf("count(*) - count(DISTINCT {%s})", strings.Join(fields, ", "))
	case "relationships":
		return fmt.Sprintf("count(*) FILTER (WHERE %s IS NOT NULL AND %s NOT IN (SELECT %s FROM %s WHERE %s IS NOT NULL))",
			col, col, sqltext.Ident(t.Args.Field), sqltext.Ident(t.Args.To), sqltext.Ident(t.Args.Field))
	}
	return fmt.Sprintf("count(*) FILTER (WHERE %s)", t.bad(column))
}

// bad is the condition a row breaking a test of one row at a time meets
// (NULL keeps the rule, but for not_null).
func (t DataTest) bad(column string) string {
	col := sqltext.Ident(column)
	switch t.Kind {
	case "not_null":
		return col + " IS NULL"
	case "accepted_values":
		vals := make([]string, len(t.Args.Values))
		for i, v := range t.Args.Values {
			vals[i] = sqltext.Quote(v)
		}
		return fmt.Sprintf("coalesce(%s::VARCHAR NOT IN (%s), false)", col, strings.Join(vals, ", "))
	default: // accepted_range
		var conds []string
		if t.Args.MinValue != nil {
			conds = append(conds, fmt.Sprintf("%s < %v", col, *t.Args.MinValue))
		}
		if t.Args.MaxValue != nil {
			conds = append(conds, fmt.Sprintf("%s > %v", col, *t.Args.MaxValue))
		}
		return "coalesce(" + strings.Join(conds, " OR ") + ", false)"
	}
}

// rule says the test in words.
func (t DataTest) rule(column string) string {
	switch t.Kind {
	case "not_null":
		return column + " is never NULL"
	case "unique":
		return column + " is unique"
	case "accepted_values":
		return column + " is one of " + strings.Join(t.Args.Values, ", ")
	case "accepted_range":
		switch {
		case t.Args.MinValue != nil && t.Args.MaxValue != nil:
			return fmt.Sprintf("%s is from %v to %v", column, *t.Args.MinValue, *t.Args.MaxValue)
		case t.Args.MinValue != nil:
			return fmt.Sprintf("%s is at least %v", column, *t.Args.MinValue)
		default:
			return fmt.Sprintf("%s is at most %v", column, *t.Args.MaxValue)
		}
	case "relationships":
		return fmt.Sprintf("every %s is a %s of %s", column, t.Args.Field, t.Args.To)
	case "unique_combination_of_columns":
		return "one row per " + strings.Join(t.Args.CombinationOfColumns, " × ")
	}
	return t.Kind
}
