package sql

import (
	"strings"
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
		columns := func(s string) string { _, cols, _ := strings.Cut(commentRE.ReplaceAllString(s, ""), "("); return cols }
		if columns(twin) != columns(ddl[table]) || !strings.Contains(twin, "CREATE OR REPLACE TABLE "+ReconcileTwin(table)+" (") {
			t.Errorf("twin of %s:\n%s", table, twin)
		}
	}
}
