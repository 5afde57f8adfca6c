package sql

// The descriptions of the published tables and columns, in
// marts/schema.yml, and the descriptions several columns share, as dbt's
// docs blocks in marts/docs.md ({% docs name %} … {% enddocs %}, used as
// '{{ doc("name") }}'). A column's description starts with its label in bold,
// "**Usage %**: active users / users …": the label is the column's name in
// the report, the rest its definition. A config setting is named as its key
// in backquotes (`kpi.low_utilization_pct`); Docs writes the run's value in
// its place.

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// DocsFile is where the shared descriptions are, for messages.
const DocsFile = "sql/marts/docs.md"

var (
	docBlockRE = regexp.MustCompile(`(?s)\{%-?\s*docs\s+(\w+)\s*-?%\}(.*?)\{%-?\s*enddocs\s*-?%\}`)
	docRefRE   = regexp.MustCompile(`\{\{\s*doc\(\s*["'](\w+)["']\s*\)\s*\}\}`)
	labelRE    = regexp.MustCompile(`(?s)^\*\*([^*]+)\*\*:\s*(.*)$`)
	settingRE  = regexp.MustCompile("`(kpi\\.[a-z_]+)`")
)

// TableDoc is what a published table's readers are told about it, as plain
// text: the table's description and each column's label and definition.
type TableDoc struct {
	Description string
	Columns     map[string]ColumnDoc
}

// ColumnDoc is one column's label ("Usage %") and definition.
type ColumnDoc struct {
	Label      string
	Definition string
}

// Text is the column's description for a catalogue: "Label: definition".
func (c ColumnDoc) Text() string {
	if c.Definition == "" {
		return c.Label
	}
	return c.Label + ": " + c.Definition
}

// parseDocBlocks reads the docs blocks of a docs file: name → its text.
func parseDocBlocks(b []byte) (map[string]string, error) {
	blocks := map[string]string{}
	for _, m := range docBlockRE.FindAllSubmatchIndex(b, -1) {
		name, text := string(b[m[2]:m[3]]), strings.TrimSpace(string(b[m[4]:m[5]]))
		if _, dup := blocks[name]; dup {
			return nil, fmt.Errorf("%s:%d: docs block %q is defined twice", DocsFile, lineOf(b, m[0]), name)
		}
		blocks[name] = text
	}
	return blocks, nil
}

func lineOf(b []byte, offset int) int { return strings.Count(string(b[:offset]), "\n") + 1 }

// resolve replaces the doc references of a description by their blocks.
func (s Schema) resolve(text string) (string, error) {
	var missing []string
	out := docRefRE.ReplaceAllStringFunc(text, func(ref string) string {
		name := docRefRE.FindStringSubmatch(ref)[1]
		block, ok := s.blocks[name]
		if !ok {
			missing = append(missing, name)
		}
		return block
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no docs block %q in %s", missing[0], DocsFile)
	}
	return out, nil
}

// checkDocs checks that every doc reference has its block and every block
// is used.
func (s Schema) checkDocs() error {
	used := map[string]bool{}
	for _, m := range s.Models {
		texts := []struct{ where, text string }{{m.Name, m.Description}}
		for _, c := range m.Columns {
			texts = append(texts, struct{ where, text string }{m.Name + "." + c.Name, c.Description})
		}
		for _, t := range texts {
			if _, err := s.resolve(t.text); err != nil {
				return fmt.Errorf("%s: %s: %w", SchemaFile, t.where, err)
			}
			for _, ref := range docRefRE.FindAllStringSubmatch(t.text, -1) {
				used[ref[1]] = true
			}
		}
	}
	var unused []string
	for name := range s.blocks {
		if !used[name] {
			unused = append(unused, name)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		return fmt.Errorf("%s: docs block %q is not used by %s", DocsFile, unused[0], SchemaFile)
	}
	return nil
}

// text is a description with its doc references resolved (checkDocs
// found each block when the schema was read).
func (s Schema) text(description string) string {
	text, _ := s.resolve(description)
	return text
}

// Described is a column's description with its doc references resolved,
// as written (markdown, settings named by their keys).
func (s Schema) Described(table, column string) string {
	for _, m := range s.Models {
		if m.Name != table {
			continue
		}
		if column == "" {
			return s.text(m.Description)
		}
		for _, c := range m.Columns {
			if c.Name == column {
				return s.text(c.Description)
			}
		}
	}
	return ""
}

// SplitLabel splits a column's description into its bold label and its
// definition; a description without a label gets fallback as label.
func SplitLabel(text, fallback string) (label, definition string) {
	if m := labelRE.FindStringSubmatch(text); m != nil {
		return m[1], m[2]
	}
	return fallback, text
}

// Docs is every published table's description as plain text, each setting
// of the config named in it replaced by its value in settings (key, as
// "kpi.low_utilization_pct", → value as the report writes it). A setting
// missing from settings stays as its key.
func (s Schema) Docs(settings map[string]string) map[string]TableDoc {
	docs := map[string]TableDoc{}
	for _, m := range s.Models {
		d := TableDoc{Description: plain(s.text(m.Description), settings), Columns: map[string]ColumnDoc{}}
		for _, c := range m.Columns {
			label, def := SplitLabel(s.text(c.Description), c.Name)
			d.Columns[c.Name] = ColumnDoc{Label: label, Definition: plain(def, settings)}
		}
		docs[m.Name] = d
	}
	return docs
}

// WithSettings writes each setting named in a description (`kpi.key`) as its
// value in settings; one missing from settings stays as it is.
func WithSettings(text string, settings map[string]string) string {
	return settingRE.ReplaceAllStringFunc(text, func(ref string) string {
		if v, ok := settings[strings.Trim(ref, "`")]; ok {
			return v
		}
		return ref
	})
}

// plain is a description as plain text: settings replaced, markdown's bold
// and code marks removed, a table written as one line per row.
func plain(text string, settings map[string]string) string {
	text = plainTables(WithSettings(text, settings))
	return strings.NewReplacer("**", "", "`", "").Replace(text)
}

// plainTables writes each markdown table of text as one line per row: its
// first cell, then each other cell after its header ("churn_risk: when
// active last month; priority 1").
func plainTables(text string) string {
	lines := strings.Split(text, "\n")
	var out, header []string
	for i, l := range lines {
		if !strings.HasPrefix(l, "|") {
			header = nil
			out = append(out, l)
			continue
		}
		cells := strings.Split(strings.Trim(l, "| "), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		switch {
		case header == nil && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "|---"):
			header = cells
		case strings.HasPrefix(l, "|---"):
		case header != nil:
			var parts []string
			for j, c := range cells[1:] {
				if j+1 < len(header) {
					c = header[j+1] + " " + c
				}
				parts = append(parts, c)
			}
			out = append(out, cells[0]+": "+strings.Join(parts, "; "))
		default:
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Markdown is the published tables' reference for docs/kpis.md: per table,
// its description, then each column with its type, its description and the
// rules the test step checks on it, as schema.yml and docs.md say them.
func (s Schema) Markdown() string {
	var b strings.Builder
	for i, m := range s.Models {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### `%s`\n\n", m.Name)
		if d := s.text(m.Description); d != "" {
			b.WriteString(d + "\n\n")
		}
		var table []string
		for _, t := range m.DataTests {
			table = append(table, t.rule(""))
		}
		if len(table) > 0 {
			fmt.Fprintf(&b, "Checked at every run: %s.\n\n", strings.Join(table, "; "))
		}
		b.WriteString("| column | type | definition | checked |\n|---|---|---|---|\n")
		for _, c := range m.Columns {
			var rules []string
			for _, t := range c.DataTests {
				rules = append(rules, t.rule(c.Name))
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.Name, c.DataType, cell(s.text(c.Description)), cell(strings.Join(rules, "; ")))
		}
	}
	return b.String()
}

// cell is a text made fit for a markdown table's cell.
func cell(text string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(text)
}
