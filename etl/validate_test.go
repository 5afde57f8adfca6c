package etl_test

import (
	"context"
	"errors"
	"path/filepath"
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
