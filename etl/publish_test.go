package etl_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
	"github.com/uptake-dev/uptake/etl"
)

// bigqueryYAML is a bigquery destination on a fake, after the files one.
func bigqueryYAML(fake *bqfake.Server) string {
	return "  - kind: bigquery\n    name: warehouse_bq\n    project: test\n    dataset: kpis\n    location: EU\n    endpoint: " + fake.URL() + "\n"
}

// outSnapshot is what a reader of out/ sees.
func outSnapshot(t *testing.T, w *workspace) string {
	t.Helper()
	out := filepath.Join(w.dir, "out")
	return readFile(t, filepath.Join(out, "kpi_overview_monthly.csv")) + readFile(t, filepath.Join(out, "runs.csv")) + readFile(t, filepath.Join(out, ".uptake-out"))
}

// With files listed first, a BigQuery destination that fails in any phase
// before its commit leaves out/ as it was: every destination is checked,
// then prepared, then committed, remote ones first and local files last.
func TestAFailingRemoteDestinationLeavesOutAlone(t *testing.T) {
	fake := bqfake.New(t, "test")
	w := newWorkspace(t, bigqueryYAML(fake))
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	published := func() string {
		tb, ok := fake.Table("kpis", "runs")
		if !ok {
			t.Fatal("runs not published")
		}
		return strings.Repeat("x", len(tb.Rows))
	}
	cases := []struct {
		name  string
		fault func()
		want  string
	}{
		// Plan: the dataset cannot be read (403).
		{"check", func() {
			fake.FailNext(func(r bqfake.Request) bool { return strings.HasSuffix(r.Path, "/datasets/kpis") }, http.StatusForbidden, "accessDenied", 1)
		}, "roles/bigquery.dataEditor"},
		// Prepare: a load is refused.
		{"prepare", func() {
			fake.FailNext(func(r bqfake.Request) bool { return strings.Contains(r.Path, "/upload/") }, http.StatusBadRequest, "invalid", 1)
		}, "invalid"},
		// Commit: the transaction fails.
		{"commit", func() {
			fake.FailNext(func(r bqfake.Request) bool { return strings.HasSuffix(r.Path, "/jobs") && strings.Contains(string(r.Body), "BEGIN TRANSACTION") }, http.StatusBadRequest, "invalidQuery", 1)
		}, "invalidQuery"},
	}
	for _, c := range cases {
		before, rows := outSnapshot(t, w), published()
		c.fault()
		res, err := w.run(etl.Options{})
		if err == nil {
			t.Fatalf("%s: the run succeeded", c.name)
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "destination warehouse_bq") || !strings.Contains(err.Error(), "Nothing was published") {
			t.Errorf("%s: error %v", c.name, err)
		}
		if len(res.Published) != 0 {
			t.Errorf("%s: published to %v", c.name, res.Published)
		}
		if outSnapshot(t, w) != before {
			t.Errorf("%s: out/ changed", c.name)
		}
		if published() != rows {
			t.Errorf("%s: BigQuery's runs table changed", c.name)
		}
	}
	// Nothing was left behind, and the next run publishes everywhere.
	res, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(outSnapshot(t, w), res.RunID) || len(res.Published) != 2 || res.Published[1] != "files" {
		t.Errorf("after the repair: published %v", res.Published)
	}
	if tb, _ := fake.Table("kpis", "runs"); len(tb.Rows) != 5 {
		t.Errorf("BigQuery runs has %d rows, want 5 (2 successes, 3 failures)", len(tb.Rows))
	}
}
