package sql

// Writing marts/schema.yml back (go test ./etl -run Schema -update): the
// layout Format writes is the file's, checked by a test.

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SchemaHeader is the comment at the top of marts/schema.yml.
const SchemaHeader = `# The published tables, in dbt's layout: each table's description, and its
# columns, in order, with their descriptions, types and data tests.
# - The descriptions are the one home of the KPI definitions: BigQuery's
#   table and column descriptions, docs/kpis.md (generated) and the report's
#   labels come from them. A column's starts with its label in bold
#   ("**Usage %**: ..."), then its definition. A setting of the config is
#   named by its key in backquotes (` + "`kpi.low_utilization_pct`" + `): the report and
#   BigQuery show the run's value. A description several tables share is a
#   docs block of docs.md, used as '{{ doc("name") }}'.
# - The types are frozen (etl/schema_test.go checks them against the tables
#   built): Looker Studio reports break on a renamed, reordered, retyped or
#   dropped column. Add columns only at the end of a table; a breaking change
#   gets a new table name (_v2). ` + "`go test ./etl -run Schema -update`" + ` rewrites
#   the types from the tables built and keeps the rest; read the diff.
# - The data tests run after the models, beside sql/tests, and a row that
#   breaks one fails the run before anything is published. Tests, by dbt's
#   names: not_null, unique, accepted_values {values}, accepted_range
#   {min_value, max_value} and relationships {to, field} on a column;
#   unique_combination_of_columns {combination_of_columns} on a table.
`

// Format writes the schema as marts/schema.yml holds it: the header, then
// one block per table, a test without arguments inline.
func (s Schema) Format() []byte {
	var b strings.Builder
	b.WriteString(SchemaHeader)
	fmt.Fprintf(&b, "version: %d\nmodels:\n", s.Version)
	for _, m := range s.Models {
		fmt.Fprintf(&b, "  - name: %s\n", m.Name)
		writeText(&b, "    ", "description", m.Description)
		if len(m.DataTests) > 0 {
			b.WriteString("    data_tests:\n")
			for _, t := range m.DataTests {
				fmt.Fprintf(&b, "      - %s\n", t.flow())
			}
		}
		b.WriteString("    columns:\n")
		for _, c := range m.Columns {
			fmt.Fprintf(&b, "      - name: %s\n", c.Name)
			writeText(&b, "        ", "description", c.Description)
			fmt.Fprintf(&b, "        data_type: %s\n", c.DataType)
			if len(c.DataTests) == 0 {
				continue
			}
			inline := true
			var names []string
			for _, t := range c.DataTests {
				inline = inline && t.Args.empty()
				names = append(names, t.Kind)
			}
			if inline {
				fmt.Fprintf(&b, "        data_tests: [%s]\n", strings.Join(names, ", "))
				continue
			}
			b.WriteString("        data_tests:\n")
			for _, t := range c.DataTests {
				fmt.Fprintf(&b, "          - %s\n", t.flow())
			}
		}
	}
	return []byte(b.String())
}

// schemaWidth is the width schema.yml's lines are wrapped at.
const schemaWidth = 100

// writeText writes a text value: on the key's line when it fits, else
// folded over several lines (a text of one paragraph) or as a literal block
// (a text with line breaks, such as a markdown table).
func writeText(b *strings.Builder, indent, key, text string) {
	if text == "" {
		return
	}
	if strings.Contains(text, "  ") || text != strings.TrimSpace(text) {
		// Folding would lose spaces, a literal block the outer blank lines:
		// one quoted line keeps them.
		fmt.Fprintf(b, "%s%s: %s\n", indent, key, strconv.Quote(text))
		return
	}
	if !strings.Contains(text, "\n") {
		if line := indent + key + ": " + yamlText(text); len(line) <= schemaWidth {
			b.WriteString(line + "\n")
			return
		}
		fmt.Fprintf(b, "%s%s: >-\n", indent, key)
		inner := indent + "  "
		line := inner
		for _, word := range strings.Fields(text) {
			if line != inner && len(line)+1+len(word) > schemaWidth {
				b.WriteString(line + "\n")
				line = inner
			}
			if line != inner {
				line += " "
			}
			line += word
		}
		b.WriteString(line + "\n")
		return
	}
	fmt.Fprintf(b, "%s%s: |-\n", indent, key)
	for _, l := range strings.Split(text, "\n") {
		if l == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString(indent + "  " + l + "\n")
	}
}

// yamlText writes a text as a YAML flow scalar: plain when YAML reads it back
// the same, else single-quoted (no escapes to read), else double-quoted.
func yamlText(v string) string {
	var back string
	if yaml.Unmarshal([]byte("v: "+v), &struct{ V *string }{&back}) == nil && back == v && !strings.ContainsAny(v, "#'\"") {
		return v
	}
	if !strings.Contains(v, "'") {
		return "'" + v + "'"
	}
	return strconv.Quote(v)
}

// flow writes a test on one line: its name, or "name: {arguments}".
func (t DataTest) flow() string {
	if t.Args.empty() {
		return t.Kind
	}
	var args []string
	list := func(key string, vals []string) {
		if vals != nil {
			quoted := make([]string, len(vals))
			for i, v := range vals {
				quoted[i] = yamlScalar(v)
			}
			args = append(args, fmt.Sprintf("%s: [%s]", key, strings.Join(quoted, ", ")))
		}
	}
	list("values", t.Args.Values)
	if t.Args.MinValue != nil {
		args = append(args, fmt.Sprintf("min_value: %v", *t.Args.MinValue))
	}
	if t.Args.MaxValue != nil {
		args = append(args, fmt.Sprintf("max_value: %v", *t.Args.MaxValue))
	}
	if t.Args.To != "" {
		args = append(args, "to: "+yamlScalar(t.Args.To))
	}
	if t.Args.Field != "" {
		args = append(args, "field: "+yamlScalar(t.Args.Field))
	}
	list("combination_of_columns", t.Args.CombinationOfColumns)
	return fmt.Sprintf("%s: {%s}", t.Kind, strings.Join(args, ", "))
}

// yamlScalar writes v as a YAML flow scalar: as it is when YAML reads it
// back as the same text, else double-quoted.
func yamlScalar(v string) string {
	var back []string
	if !strings.ContainsAny(v, ",:[]{}#\"'\\") && yaml.Unmarshal([]byte("["+v+"]"), &back) == nil && len(back) == 1 && back[0] == v {
		return v
	}
	return strconv.Quote(v)
}
