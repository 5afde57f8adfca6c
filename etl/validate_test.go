package etl_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/etl"
)

// TestValidateRunsTheRunsExtract: validate goes through the run's extract
// step, so it reports what the run would refuse across sources (here two
// sources loading rows with one tag), not only each source's own problems.
func TestValidateRunsTheRunsExtract(t *testing.T) {
	sample, err := filepath.Abs(filepath.Join("..", "testdata", "sample"))
	if err != nil {
		t.Fatal(err)
	}
	ga4 := func(name string) string {
		return `  - name: ` + name + `
    kind: ga4_export_file
    path: ` + sample + `/ga4_events_*.jsonl.gz
    customer_property: customer_ref
    usage_events: [page_view]
`
	}
	w := sourcesWorkspace(t, ga4("shop")+ga4("shop_again"))
	const want = `sources shop and shop_again both load raw_activity rows tagged "ga4_export"`
	_, err = w.run(etl.Options{})
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("run = %v, want %q", err, want)
	}
	v, err := w.validate(date(2026, 10, 15))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errors.Join(v.Problems...).Error(), want) {
		t.Errorf("validate's problems = %v, want %q", v.Problems, want)
	}
}

// TestValidateRunsTheStepsUpToThePublish: on the kpi fixture, validate
// builds the same tables a run publishes, with the same rows (but runs:
// validate is no run), and leaves no warehouse and no out/ behind.
func TestValidateRunsTheStepsUpToThePublish(t *testing.T) {
	w := newWorkspace(t, "")
	v, err := w.validate(date(2026, 10, 15))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Problems) != 0 {
		t.Fatalf("problems: %v", v.Problems)
	}
	for _, p := range []string{w.cfg.Warehouse, filepath.Join(w.dir, "out")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("validate left %s behind (%v)", p, err)
		}
	}
	res, err := w.run(etl.Options{AsOf: date(2026, 10, 15)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.RowsOut["runs"]; ok || v.RowsOut["customer_monthly"] == 0 || res.RowsOut["runs"] != 1 {
		t.Errorf("validate built %v", v.RowsOut)
	}
	delete(res.RowsOut, "runs")
	if !reflect.DeepEqual(v.RowsOut, res.RowsOut) {
		t.Errorf("validate would publish %v, the run published %v", v.RowsOut, res.RowsOut)
	}
}

// TestValidateListsRejectsBesideABrokenSource: a source that cannot read
// its files does not hide another's rejects past checks.max_reject_pct;
// validate spills into a folder of its own, removed as it ends.
func TestValidateListsRejectsBesideABrokenSource(t *testing.T) {
	spill := t.TempDir()
	w := newWorkspace(t, "  - name: broken_ga4\n    kind: ga4_export_file\n    path: "+filepath.Join(t.TempDir(), "ga4_*.jsonl")+
		"\n    customer_property: customer_ref\nchecks:\n  max_reject_pct: 1\nduckdb:\n  temp_directory: "+spill+"\n")
	w.write("establishments_2026-10.csv", "reference,name,archived,has_portal_access,portal views,downloads,shares,salesperson,seats\n"+
		"E1,Alpha,no,yes,1,0,0,Alice,4\nE2,Beta,perhaps,yes,1,0,0,Alice,2\nE3,Gamma,no,yes,lots,0,0,Alice,\n")
	v, err := w.validate(date(2026, 10, 15))
	if err != nil {
		t.Fatal(err)
	}
	all := errors.Join(v.Problems...).Error()
	for _, want := range []string{"broken_ga4", "above checks.max_reject_pct = 1 %"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q: %v", want, v.Problems)
		}
	}
	if left, _ := os.ReadDir(spill); len(left) != 0 {
		t.Errorf("validate left %d entries in duckdb.temp_directory", len(left))
	}
}
