package bigquery

import (
	"strings"
	"testing"
	"unicode/utf8"

	uptakesql "github.com/uptake-dev/uptake/sql"
)

// TestColumnDescriptionsComeFromTheSchemaFile: the BigQuery schema of a
// published table describes each column as sql/marts/schema.yml does, with
// the run's thresholds written in, and fits BigQuery's limit of 1,024
// characters per column description.
func TestColumnDescriptionsComeFromTheSchemaFile(t *testing.T) {
	schema, err := uptakesql.ReadSchema()
	if err != nil {
		t.Fatal(err)
	}
	docs := schema.Docs(map[string]string{"kpi.low_utilization_pct": "45"})
	for _, m := range schema.Models {
		var cols []column
		for _, c := range m.Columns {
			cols = append(cols, column{name: c.Name, duckType: c.DataType})
		}
		bqs, err := schemaFor(cols, docs[m.Name])
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		for _, f := range bqs {
			if n := utf8.RuneCountInString(f.Description); n == 0 || n > 1024 {
				t.Errorf("%s.%s: a description of %d characters (BigQuery takes 1 to 1,024)", m.Name, f.Name, n)
			}
			if strings.ContainsAny(f.Description, "`*") {
				t.Errorf("%s.%s: markdown left in %q", m.Name, f.Name, f.Description)
			}
			if m.Name == "customer_monthly" && f.Name == "low_utilization" &&
				(!strings.HasPrefix(f.Description, "Low utilization: ") || !strings.Contains(f.Description, "below 45 %")) {
				t.Errorf("customer_monthly.low_utilization: %q (want its label, then the run's threshold)", f.Description)
			}
		}
		if d := docs[m.Name].Description; d == "" || utf8.RuneCountInString(d) > 16384 {
			t.Errorf("%s: a table description of %d characters (BigQuery takes up to 16,384)", m.Name, utf8.RuneCountInString(d))
		}
	}
	// A setting's long list of events: the description is cut at the limit.
	events := strings.Repeat("an_event_with_a_long_name, ", 60)
	long := schema.Docs(map[string]string{"kpi.usage_events": events})["customer_monthly"]
	bqs, err := schemaFor([]column{{name: "active_users", duckType: "BIGINT"}}, long)
	if err != nil {
		t.Fatal(err)
	}
	if d := bqs[0].Description; utf8.RuneCountInString(d) != 1024 || !strings.HasSuffix(d, "…") {
		t.Errorf("a description past 1,024 characters: %d characters, %q at its end", utf8.RuneCountInString(d), d[len(d)-10:])
	}
}
