package sql_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/config"
	uptakesql "github.com/uptake-dev/uptake/sql"
)

// TestEveryPublishedColumnIsDescribed: each published table has a
// description and each of its columns a label and a definition; labels are
// distinct within a table, and each setting a description names is a key
// of the config's kpi block.
func TestEveryPublishedColumnIsDescribed(t *testing.T) {
	schema, err := uptakesql.ReadSchema()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	kpi := reflect.TypeOf(config.KPI{})
	for i := 0; i < kpi.NumField(); i++ {
		known["kpi."+strings.Split(kpi.Field(i).Tag.Get("yaml"), ",")[0]] = true
	}
	setting := regexp.MustCompile("`(kpi\\.[a-z_]+)`")
	label := regexp.MustCompile(`^\*\*[^*]{1,24}\*\*: \S`)
	for _, m := range schema.Models {
		if schema.Described(m.Name, "") == "" {
			t.Errorf("%s has no description", m.Name)
		}
		labels := map[string]string{}
		for _, c := range m.Columns {
			d := schema.Described(m.Name, c.Name)
			if !label.MatchString(d) {
				t.Errorf("%s.%s: %q does not start with a label in bold of at most 24 characters, then its definition", m.Name, c.Name, d)
				continue
			}
			l, _ := uptakesql.SplitLabel(d, "")
			if other, dup := labels[l]; dup {
				t.Errorf("%s: %s and %s have the same label %q", m.Name, other, c.Name, l)
			}
			labels[l] = c.Name
			for _, ref := range setting.FindAllStringSubmatch(d, -1) {
				if !known[ref[1]] {
					t.Errorf("%s.%s names %s, which is not a setting of the config", m.Name, c.Name, ref[1])
				}
			}
		}
	}
}

// TestDocsWriteTheRunsSettings: a description's settings are written as the
// run's values, markdown removed; a setting the run does not give stays
// named by its key.
func TestDocsWriteTheRunsSettings(t *testing.T) {
	schema, err := uptakesql.ParseSchemaDocs([]byte(`version: 2
models:
  - name: t
    description: |-
      One row per **month**.

      | play | when | priority |
      |---|---|---|
      | `+"`churn_risk`"+` | not active now | 1 |
      | `+"`usage_drop`"+` | down by ≥ `+"`kpi.drop_alert_pct`"+` % | 2 |
    columns:
      - name: low
        description: '{{ doc("low") }}'
        data_type: BOOLEAN
      - name: top
        description: "**Top**: in the top `+"`kpi.champion_top_pct`"+` %, or a score of `+"`kpi.champion_min_score`"+` or more."
        data_type: BOOLEAN
      - name: bare
        data_type: BOOLEAN
`), []byte(`{% docs low %}
**Low utilization**: `+"`active_users / seats`"+` below `+"`kpi.low_utilization_pct`"+` %.
{% enddocs %}
`))
	if err != nil {
		t.Fatal(err)
	}
	docs := schema.Docs(map[string]string{"kpi.low_utilization_pct": "45", "kpi.champion_top_pct": "10", "kpi.drop_alert_pct": "50"})["t"]
	// A markdown table (action_list's plays) is one line per row in plain text.
	want := uptakesql.TableDoc{Description: "One row per month.\n\nchurn_risk: when not active now; priority 1\nusage_drop: when down by ≥ 50 %; priority 2", Columns: map[string]uptakesql.ColumnDoc{
		"low":  {Label: "Low utilization", Definition: "active_users / seats below 45 %."},
		"top":  {Label: "Top", Definition: "in the top 10 %, or a score of kpi.champion_min_score or more."},
		"bare": {Label: "bare", Definition: ""},
	}}
	if !reflect.DeepEqual(docs, want) {
		t.Errorf("docs:\n got %#v\nwant %#v", docs, want)
	}
	if got := docs.Columns["low"].Text(); got != "Low utilization: active_users / seats below 45 %." {
		t.Errorf("Text() = %q", got)
	}
	if got := schema.Described("t", "low"); !strings.Contains(got, "`kpi.low_utilization_pct`") {
		t.Errorf("Described keeps the markdown and the key: %q", got)
	}
}

// TestWrongDocsAreRefused: a reference without its block, a block no
// description uses and a block defined twice are refused, naming them.
func TestWrongDocsAreRefused(t *testing.T) {
	schema := []byte(`version: 2
models:
  - name: t
    columns:
      - name: a
        description: '{{ doc("a") }}'
        data_type: VARCHAR
`)
	for _, c := range []struct{ docs, want string }{
		{``, `t.a: no docs block "a" in sql/marts/docs.md`},
		{"{% docs a %}A{% enddocs %}\n{% docs b %}B{% enddocs %}", `docs block "b" is not used`},
		{"{% docs a %}A{% enddocs %}\n\n{% docs a %}again{% enddocs %}", `sql/marts/docs.md:3: docs block "a" is defined twice`},
	} {
		_, err := uptakesql.ParseSchemaDocs(schema, []byte(c.docs))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("docs %q: error %v, want %q", c.docs, err, c.want)
		}
	}
}

// TestLongDescriptionsReadBackTheSame: Format folds a long description over
// lines of at most 100 characters, writes one with line breaks as a
// literal block, quotes one YAML would misread and keeps one's double and
// outer spaces; each reads back the same.
func TestLongDescriptionsReadBackTheSame(t *testing.T) {
	long := "**Churn risk**: a complete month, not archived, active last month, and now inactive or the score down by ≥ `kpi.drop_alert_pct` % on last month's; such customers head the action list."
	s := uptakesql.Schema{Version: 2, Models: []uptakesql.TableSchema{{
		Name:        "t",
		Description: "One row per play:\n\n| play | priority |\n|---|---|\n| `churn_risk` | 1 |",
		Columns: []uptakesql.Column{
			{Name: "a", Description: long, DataType: "BOOLEAN"},
			{Name: "b", Description: `{{ doc("b") }}`, DataType: "VARCHAR"},
			{Name: "c", Description: "**C**: it's #1, \"quoted\"", DataType: "VARCHAR"},
			{Name: "d", Description: "plain words", DataType: "VARCHAR"},
			{Name: "e", Description: "\nafter a blank line, and  two spaces", DataType: "VARCHAR"},
			{Name: "f", Description: "**F**: a description long enough to be folded over two lines of the file,  with two spaces in it here.", DataType: "VARCHAR"},
		},
	}}}
	text := s.Format()
	for _, line := range strings.Split(string(text), "\n") {
		if len([]rune(line)) > 100 && !strings.HasPrefix(line, "#") && !strings.Contains(line, "  with two spaces") { // that one is kept on one line
			t.Errorf("line of %d characters: %q", len([]rune(line)), line)
		}
	}
	back, err := uptakesql.ParseSchemaDocs(text, []byte(`{% docs b %}**B**: bee.{% enddocs %}`))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if !reflect.DeepEqual(back.Models, s.Models) {
		t.Errorf("read back:\n%#v\nwritten:\n%s", back.Models, text)
	}
	if got := back.Format(); string(got) != string(text) {
		t.Errorf("written again:\n%s\nfirst written:\n%s", got, text)
	}
}

// TestKPIDocsAreUpToDate: the published tables' reference in docs/kpis.md
// is what schema.yml and docs.md say (UPDATE_DOCS=1 rewrites it).
func TestKPIDocsAreUpToDate(t *testing.T) {
	const begin, end = "<!-- BEGIN generated from sql/marts/schema.yml and docs.md: UPDATE_DOCS=1 go test ./sql -run KPIDocs -->\n", "<!-- END generated -->\n"
	path := filepath.Join("..", "docs", "kpis.md")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i, j := strings.Index(string(text), begin), strings.Index(string(text), end)
	if i < 0 || j < i {
		t.Fatalf("%s: no generated part between %q and %q", path, begin, end)
	}
	schema, err := uptakesql.ReadSchema()
	if err != nil {
		t.Fatal(err)
	}
	want := string(text[:i]) + begin + "\n" + schema.Markdown() + "\n" + string(text[j:])
	if os.Getenv("UPDATE_DOCS") != "" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(text) != want {
		t.Errorf("%s is stale: run UPDATE_DOCS=1 go test ./sql -run KPIDocs", path)
	}
}
