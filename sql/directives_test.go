package sql

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestDirectives(t *testing.T) {
	m := Model{Name: "stg_x", Layer: "staging", SQL: "-- stg_x: a model.\n-- @month: date_trunc('month', day)::DATE\n" +
		"-- @lookback: raw_activity all, stg_y 1\nSELECT 1"}
	if err := m.parseDirectives(); err != nil {
		t.Fatal(err)
	}
	if m.Month != "date_trunc('month', day)::DATE" || m.Lookback["raw_activity"] != LookbackAll || m.Lookback["stg_y"] != 1 || len(m.Lookback) != 2 {
		t.Errorf("month %q, lookback %v", m.Month, m.Lookback)
	}
	if doc := headerDoc(m.SQL); doc != "stg_x: a model." {
		t.Errorf("doc %q keeps the directives", doc)
	}
	view := Model{Name: "x", Layer: "marts", SQL: "-- @materialized: view\nSELECT 1"}
	if err := view.parseDirectives(); err != nil || !view.View {
		t.Errorf("@materialized: view: %v, %v", view.View, err)
	}
	cutoff := Model{Name: "stg_x", Layer: "staging", SQL: "-- @month: month\n-- @cutoff: content\nSELECT 1"}
	if err := cutoff.parseDirectives(); err != nil || !cutoff.Cutoff {
		t.Errorf("@cutoff: content: %v, %v", cutoff.Cutoff, err)
	}
	// One @lookback line per input reads as one list.
	two := Model{Name: "stg_x", Layer: "staging", SQL: "-- @month: month\n-- @lookback: raw_activity all\n-- @lookback: stg_y 2\nSELECT 1"}
	if err := two.parseDirectives(); err != nil || two.Lookback["raw_activity"] != LookbackAll || two.Lookback["stg_y"] != 2 {
		t.Errorf("two @lookback lines: %v, %v", two.Lookback, err)
	}
	for header, want := range map[string]string{
		"-- @month: month\n-- @month: day":                               "two @month lines",
		"-- @materialized: ephemeral":                                    "want view or table",
		"-- @materialized: view\n-- @month: month":                       "a view has no months",
		"-- @month: month\n-- @lookback: stg_y 1\n-- @lookback: stg_y 2": "@lookback names stg_y twice",
		"-- a model\n\n-- @month: month":                                 "sql/staging/stg_x.sql:3: a directive (-- @month: month) belongs in the header",
		"-- @mnth: month":                                                "unknown directive @mnth",
		"-- @month:":                                                     `want "-- @name: value"`,
		"-- @month: month\n-- @lookback: stg_y":                          `want "input n" or "input all"`,
		"-- @month: month\n-- @lookback: stg_y -1":                       "a number of 0 or more, or all",
		"-- @lookback: stg_y 1":                                          "@lookback without @month",
		"-- @month: month\n-- @cutoff: keys":                             "@cutoff: keys: want content",
		"-- @cutoff: content":                                            "@cutoff without @month",
	} {
		m := Model{Name: "stg_x", Layer: "staging", SQL: header + "\nSELECT 1"}
		err := m.parseDirectives()
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "sql/staging/stg_x.sql") {
			t.Errorf("%q: %v, want an error naming the file and saying %q", header, err, want)
		}
	}
}

// TestLookbackNamesAnInput: a @lookback of a table the model does not
// read is a typo the run would never notice.
func TestLookbackNamesAnInput(t *testing.T) {
	models := []Model{
		{Name: "stg_a", Layer: "staging", SQL: "SELECT day FROM raw_activity"},
		{Name: "stg_b", Layer: "staging", SQL: "-- @month: month\n-- @lookback: stg_c all\nSELECT * FROM stg_a", Month: "month", Lookback: map[string]int{"stg_c": LookbackAll}},
	}
	if _, err := order(models); err == nil || !strings.Contains(err.Error(), "@lookback names stg_c, which the model does not read") {
		t.Errorf("got %v", err)
	}
	models[1].Lookback = map[string]int{"stg_a": 1}
	out, err := order(models)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out[0].Raw, ","); out[0].Name != "stg_a" || got != "raw_activity" {
		t.Errorf("%s reads raw tables %q, want raw_activity", out[0].Name, got)
	}
}

// TestNoModelNameHasADoubleUnderscore: the warehouse's own tables (parts,
// copied rows) have one, and the swap gives them no view in main.
func TestNoModelNameHasADoubleUnderscore(t *testing.T) {
	fsys := fstest.MapFS{"staging/stg__x.sql": {Data: []byte("SELECT 1")}}
	if _, err := layerOf(fsys, "staging"); err == nil || !strings.Contains(err.Error(), "sql/staging/stg__x.sql") {
		t.Errorf("got %v, want an error naming the file", err)
	}
}

// TestInputsAreFoundInAnyCase: DuckDB's names are case-insensitive, so a
// model reading STG_A or "Raw_Activity" reads stg_a and raw_activity; a
// dependency missed would leave the model's rows as they were when its
// input changes.
func TestInputsAreFoundInAnyCase(t *testing.T) {
	models := []Model{
		{Name: "stg_a", Layer: "staging", SQL: "SELECT day FROM raw_activity"},
		{Name: "stg_b", Layer: "staging", SQL: `SELECT * FROM STG_A JOIN "Raw_Activity" USING (day)`},
	}
	out, err := order(models)
	if err != nil {
		t.Fatal(err)
	}
	b := out[1]
	if b.Name != "stg_b" || strings.Join(b.Deps, ",") != "stg_a" || strings.Join(b.Raw, ",") != "raw_activity" {
		t.Errorf("%s reads models %q and raw tables %q, want stg_a and raw_activity", b.Name, b.Deps, b.Raw)
	}
}

// TestAVariableIsReadInOneSpelling: a model is keyed by the variables its
// SQL reads as getvariable('name'); any other spelling is refused with the
// file and line, since a change of that setting would not rebuild the model.
func TestAVariableIsReadInOneSpelling(t *testing.T) {
	for _, read := range []string{"GETVARIABLE('drop_alert_pct')", "getvariable( 'drop_alert_pct' )", "getvariable ('drop_alert_pct')",
		"getvariable('Drop_Alert_Pct')", "getvariable('drop_' || 'alert_pct')", "getvariable(\n'drop_alert_pct')", "GETVARIABLE(\n  'drop_alert_pct'\n)"} {
		fsys := fstest.MapFS{"staging/stg_x.sql": {Data: []byte("-- stg_x: a model\nSELECT 1 AS a,\n  " + read + " AS b")}}
		want := "sql/staging/stg_x.sql:3: " + strings.Join(strings.Fields(read), " ") + ": read a variable as getvariable('name')"
		if _, err := layerOf(fsys, "staging"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", read, err, want)
		}
	}
	fsys := fstest.MapFS{"staging/stg_x.sql": {Data: []byte("-- GETVARIABLE('x') in a comment\nSELECT getvariable('drop_alert_pct') / 100.0, len(getvariable('features'))")}}
	if _, err := layerOf(fsys, "staging"); err != nil {
		t.Errorf("the one spelling: %v", err)
	}
}
