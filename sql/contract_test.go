package sql

import (
	"strings"

	"github.com/uptake-dev/uptake/sql/sqltext"
	"testing"
)

// TestTempTableHasTheContractsColumns: a source's connection-local table
// is made from the contract's own DDL.
func TestTempTableHasTheContractsColumns(t *testing.T) {
	ddl, err := TempTable("raw_orders", "ga4_shop_orders")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ddl, "CREATE OR REPLACE TEMP TABLE ga4_shop_orders (") || !strings.Contains(ddl, "revenue DECIMAL(18, 2)") {
		t.Errorf("DDL:\n%s", ddl)
	}
	if _, err := TempTable("raw_nothing", "x"); err == nil {
		t.Error("a table outside the contract gave DDL")
	}
}

// TestReconcileTwinsFollowTheirTables: each twin has its table's columns.
func TestReconcileTwinsFollowTheirTables(t *testing.T) {
	models, err := Contract()
	if err != nil {
		t.Fatal(err)
	}
	ddl := map[string]string{}
	for _, m := range models {
		ddl[m.Name] = m.SQL
	}
	for table := range reconciled {
		twin := ddl[ReconcileTwin(table)]
		if twin == "" {
			t.Fatalf("no twin of %s", table)
		}
		columns := func(s string) string { _, cols, _ := strings.Cut(sqltext.StripComments(s), "("); return cols }
		if columns(twin) != columns(ddl[table]) || !strings.Contains(twin, "CREATE OR REPLACE TABLE "+ReconcileTwin(table)+" (") {
			t.Errorf("twin of %s:\n%s", table, twin)
		}
	}
}

// TestModelsFlowOneWay: the embedded models keep to their layers, and a
// model that reads back is refused, naming its file.
func TestModelsFlowOneWay(t *testing.T) {
	if _, err := Models(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ reader, layer, read, readLayer, want string }{
		{"stg_x", "staging", "customer_monthly", "marts", "sql/staging/stg_x.sql reads customer_monthly (sql/marts): staging reads from marts, a later layer"},
		{"stg_x", "staging", "int_y", "intermediate", "staging reads from intermediate, a later layer"},
		{"int_x", "intermediate", "kpi_daily", "marts", "intermediate reads from marts, a later layer"},
		{"action_list", "marts", "customer_monthly", "marts", "a mart reads another"},
	} {
		_, err := order([]Model{{Name: c.reader, Layer: c.layer, SQL: "SELECT * FROM " + c.read}, {Name: c.read, Layer: c.readLayer, SQL: "SELECT 1"}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s reading %s: %v", c.reader, c.read, err)
		}
	}
	// Reading one's own layer or an earlier one is the flow.
	if _, err := order([]Model{{Name: "int_x", Layer: "intermediate", SQL: "SELECT * FROM stg_y JOIN int_z USING (k)"},
		{Name: "stg_y", Layer: "staging", SQL: "SELECT 1"}, {Name: "int_z", Layer: "intermediate", SQL: "SELECT 1"}}); err != nil {
		t.Error(err)
	}
}
