package bigquery

import (
	"strings"
	"testing"

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
			if f.Description == "" || len(f.Description) > 1024 {
				t.Errorf("%s.%s: a description of %d characters (BigQuery takes 1 to 1,024)", m.Name, f.Name, len(f.Description))
			}
			if strings.ContainsAny(f.Description, "`*") {
				t.Errorf("%s.%s: markdown left in %q", m.Name, f.Name, f.Description)
			}
			if m.Name == "customer_monthly" && f.Name == "low_utilization" &&
				(!strings.HasPrefix(f.Description, "Low utilization: ") || !strings.Contains(f.Description, "below 45 %")) {
				t.Errorf("customer_monthly.low_utilization: %q (want its label, then the run's threshold)", f.Description)
			}
		}
		if d := docs[m.Name].Description; d == "" || len(d) > 16384 {
			t.Errorf("%s: a table description of %d characters (BigQuery takes up to 16,384)", m.Name, len(d))
		}
	}
}
