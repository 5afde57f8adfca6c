package etl_test

import (
	"context"
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
	cfg := configIn(t, t.TempDir(), ga4("shop")+ga4("shop_again"))
	const want = `sources shop and shop_again both load raw_activity rows tagged "ga4_export"`
	_, err = etl.Run(context.Background(), etl.Options{Config: cfg, AsOf: date(2026, 10, 15), Logger: discard()})
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("run = %v, want %q", err, want)
	}
	v, err := etl.Validate(context.Background(), cfg, date(2026, 10, 15), discard())
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
	v, err := etl.Validate(context.Background(), w.cfg, date(2026, 10, 15), discard())
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
