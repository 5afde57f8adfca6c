package bigquery

import (
	"strings"
	"testing"

	uptakesql "github.com/uptake-dev/uptake/sql"
)

// TestDescriptionsFromTheModels reads the real sql/ models' header comments
// as BigQuery table and column descriptions.
func TestDescriptionsFromTheModels(t *testing.T) {
	models, err := uptakesql.Models()
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, m := range models {
		docs[m.Name] = m.Doc
	}
	table, cols := describe(docs["customer_monthly"])
	if table != "customer_monthly: one row per customer per month (grain: month × customer_ref)." {
		t.Errorf("table description = %q", table)
	}
	if cols["activated"] != "not archived and has portal access" {
		t.Errorf("activated: %q", cols["activated"])
	}
	if cols["churn_risk"] != "complete month, not archived, active last month, and now inactive or score down by >= kpi.drop_alert_pct %" {
		t.Errorf("churn_risk: %q", cols["churn_risk"])
	}
	if cols["score_mom"] == "" || cols["license_utilization"] != "active_users / seats (activated customers with seats; NULL without a users export as of the run)" {
		t.Errorf("descriptions: %v", cols)
	}
	// runs: the description tells a reader the publishing run shows as running.
	table, cols = describe(docs["runs"])
	if !strings.HasPrefix(table, "runs: the run history") || !strings.Contains(table, "with status 'running'") ||
		!strings.Contains(table, "its final status appears in the next run's publish and in `uptake history`.") {
		t.Errorf("runs description = %q", table)
	}
	if cols["rows_out"] != "JSON text: output table → rows built" || cols["window_start"] == "" {
		t.Errorf("runs columns: %v", cols)
	}
}
