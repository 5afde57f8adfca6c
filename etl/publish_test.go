package etl_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
	"github.com/uptake-dev/uptake/connectors/sheets/sheetsfake"
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
			fake.FailNext(func(r bqfake.Request) bool {
				return strings.HasSuffix(r.Path, "/jobs") && strings.Contains(string(r.Body), "BEGIN TRANSACTION")
			}, http.StatusBadRequest, "invalidQuery", 1)
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

// metaRunID reads the run id the spreadsheet's _meta tab names.
func metaRunID(t *testing.T, fake *sheetsfake.Server, id string) string {
	t.Helper()
	meta, ok := fake.Sheet(id, "_meta")
	if !ok {
		return ""
	}
	for _, row := range meta.Cells {
		if len(row) > 1 && row[0].String == "run_id" {
			return row[1].String
		}
	}
	return ""
}

// Three destinations, files listed first: a Sheets refusal at its Plan
// changes none of them; a Sheets refusal at its commit, after BigQuery
// committed, is named (published to BigQuery, not to Sheets nor files) in
// the error and in runs; the next run publishes to all three again.
func TestAFailureBetweenCommitsIsNamedAndRepaired(t *testing.T) {
	bq := bqfake.New(t, "test")
	sh := sheetsfake.New(t)
	sheetID := sh.CreateSpreadsheet("KPIs", "Sheet1")
	var notified []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Text string }
		json.NewDecoder(r.Body).Decode(&body)
		notified = append(notified, body.Text)
	}))
	defer hook.Close()
	w := newWorkspace(t, bigqueryYAML(bq)+"  - kind: sheets\n    name: sheets\n    spreadsheet_id: "+sheetID+"\n    endpoint: "+sh.URL()+"\n    tabs: {kpi_overview_monthly: overview}\n"+
		"notify:\n  webhook_url: "+hook.URL+"/hook\n")
	first, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bqRuns := func() int {
		tb, ok := bq.Table("kpis", "runs")
		if !ok {
			t.Fatal("runs not published to BigQuery")
		}
		return len(tb.Rows)
	}
	if metaRunID(t, sh, sheetID) != first.RunID || bqRuns() != 1 {
		t.Fatalf("first run: _meta names %q, BigQuery runs has %d rows", metaRunID(t, sh, sheetID), bqRuns())
	}

	// Sheets refuses the read of its Plan: nothing changes anywhere.
	before := outSnapshot(t, w)
	sh.FailNext(func(r sheetsfake.Request) bool { return r.Method == http.MethodGet }, http.StatusForbidden, 1)
	res, err := w.run(etl.Options{})
	if err == nil || !strings.Contains(err.Error(), "destination sheets") || !strings.Contains(err.Error(), "Nothing was published") || len(res.Published) != 0 {
		t.Fatalf("sheets refused at Plan: published %v, err %v", res.Published, err)
	}
	if outSnapshot(t, w) != before || bqRuns() != 1 || metaRunID(t, sh, sheetID) != first.RunID {
		t.Error("a destination changed although Sheets failed its check")
	}

	// Sheets refuses its swap (the batchUpdate that copies the staged tabs in).
	sh.FailNext(func(r sheetsfake.Request) bool {
		return sheetsfake.IsWrite(r) && strings.Contains(string(r.Body), "copyPaste")
	}, http.StatusBadRequest, 1)
	res, err = w.run(etl.Options{})
	if err == nil {
		t.Fatal("the run succeeded although Sheets refused its commit")
	}
	if strings.Join(res.Published, ",") != "warehouse_bq" || strings.Join(res.NotPublished, ",") != "sheets,files" {
		t.Errorf("published %v, not published %v", res.Published, res.NotPublished)
	}
	if want := "Published to warehouse_bq; not to sheets, files"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %v lacks %q", err, want)
	}
	if last := notified[len(notified)-1]; !strings.Contains(last, "Published to warehouse_bq before the failure, not to sheets, files") {
		t.Errorf("notification: %s", last)
	}
	if bqRuns() != 3 || metaRunID(t, sh, sheetID) != first.RunID || outSnapshot(t, w) != before {
		t.Errorf("after a failed Sheets commit: BigQuery runs %d rows (want 3), _meta %q (want %q), out/ changed %v",
			bqRuns(), metaRunID(t, sh, sheetID), first.RunID, outSnapshot(t, w) != before)
	}
	runs, err := etl.History(context.Background(), w.cfg, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("history: %v %v", runs, err)
	}
	status, errText := runs[0].Status, runs[0].Error.String
	if status != "failed" || !strings.Contains(errText, "Published to warehouse_bq; not to sheets, files") {
		t.Errorf("runs row: %s %q", status, errText)
	}
	for _, tab := range sh.Sheets(sheetID) {
		if strings.HasPrefix(tab.Title, "_uptake_stage_") {
			t.Errorf("staging tab %s left", tab.Title)
		}
	}

	// The next run repairs every destination.
	last, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if metaRunID(t, sh, sheetID) != last.RunID || bqRuns() != 4 || !strings.Contains(outSnapshot(t, w), last.RunID) {
		t.Errorf("after the repair: _meta %q, BigQuery runs %d rows, out/ has the run %v", metaRunID(t, sh, sheetID), bqRuns(), strings.Contains(outSnapshot(t, w), last.RunID))
	}
}

// A BigQuery transaction that committed but whose read-back disagrees: the
// run fails, BigQuery counts as published (its readers see the new rows),
// and out/, committed after it, keeps the previous run.
func TestACommittedButUnverifiedDestinationCountsAsPublished(t *testing.T) {
	fake := bqfake.New(t, "test")
	w := newWorkspace(t, bigqueryYAML(fake))
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	before := outSnapshot(t, w)
	fake.SkewNextInsert("kpi_daily", -1)
	res, err := w.run(etl.Options{})
	if err == nil || !strings.Contains(err.Error(), "after publishing") {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(res.Published, ",") != "warehouse_bq" || strings.Join(res.NotPublished, ",") != "files" ||
		!strings.Contains(err.Error(), "Published to warehouse_bq; not to files") {
		t.Errorf("published %v, not published %v: %v", res.Published, res.NotPublished, err)
	}
	if outSnapshot(t, w) != before {
		t.Error("out/ changed")
	}
}

// Two destinations writing to one place (a spreadsheet, a dataset and
// prefix; a folder is tested in connectors/files) would replace or clean up
// each other's tables: the config is refused, naming both, before any
// destination is called.
func TestTwoDestinationsOnOneTargetAreRefused(t *testing.T) {
	sh := sheetsfake.New(t)
	id := sh.CreateSpreadsheet("KPIs")
	bq := bqfake.New(t, "test")
	for name, extra := range map[string]string{
		"spreadsheet": "  - {kind: sheets, name: s1, spreadsheet_id: " + id + ", endpoint: " + sh.URL() + "}\n  - {kind: sheets, name: s2, spreadsheet_id: " + id + ", endpoint: " + sh.URL() + "}\n",
		"dataset":     bigqueryYAML(bq) + "  - {kind: bigquery, name: bq2, project: test, dataset: kpis, location: EU, endpoint: " + bq.URL() + "}\n",
	} {
		_, err := newWorkspace(t, extra).run(etl.Options{})
		if err == nil || !strings.Contains(err.Error(), "both publish to") || !strings.Contains(err.Error(), "would replace each other's tables") {
			t.Errorf("%s: err = %v", name, err)
		}
		if len(sh.Requests())+len(bq.Requests()) != 0 {
			t.Errorf("%s: a destination was called", name)
		}
	}
}

// A warning a remote destination adds while it prepares (Sheets cutting a
// value too long for a cell) is in report.html too: out/ is prepared last.
func TestWarningsOfEarlierDestinationsReachTheReport(t *testing.T) {
	sh := sheetsfake.New(t)
	id := sh.CreateSpreadsheet("KPIs")
	w := newWorkspace(t, "  - {kind: sheets, name: sheets, spreadsheet_id: "+id+", endpoint: "+sh.URL()+
		", truncate_long_text: true, tabs: {customer_monthly: customers}}\nchecks:\n  max_cell_chars: 60000\n")
	text := readFile(t, filepath.Join(w.dir, "input", "establishments_2026-09.csv"))
	w.write("establishments_2026-09.csv", strings.Replace(text, "E1,Alpha,", "E1,"+strings.Repeat("A", 50_001)+",", 1))
	res, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "cut to the 50000 characters of a Google Sheets cell"
	if !strings.Contains(strings.Join(res.Warnings, "\n"), want) {
		t.Fatalf("run warnings: %v", res.Warnings)
	}
	if report := readFile(t, filepath.Join(w.dir, "out", "report.html")); !strings.Contains(report, want) {
		t.Error("report.html lacks the Sheets warning")
	}
}

// The Data API and the export of one GA4 property, both feeding the KPIs,
// would count every event twice: the run is refused before anything is
// read, naming both sources (with use: reconcile on one of them the check
// passes: connectors/ga4property_test.go; validate runs the same check).
func TestTwoKPISourcesOfOneGA4PropertyAreRefused(t *testing.T) {
	sources := func() string {
		return `  - name: api
    kind: ga4
    property_id: "42"
    customer_dimension: customUser:customer_ref
    usage_events: [page_view]
    start_date: 2026-09-01
    endpoint: http://127.0.0.1:1
  - name: export
    kind: ga4_bigquery
    project: acme-analytics
    dataset: analytics_42
    location: EU
    customer_property: customer_ref
    usage_events: [page_view]
    start_date: 2026-09-01
    endpoint: http://127.0.0.1:1
`
	}
	w := newWorkspace(t, sources())
	_, err := w.run(etl.Options{})
	if err == nil || !strings.Contains(err.Error(), `"api"`) || !strings.Contains(err.Error(), `"export"`) || !strings.Contains(err.Error(), "use: reconcile") {
		t.Fatalf("err = %v", err)
	}
}

// TestBigQueryTablesAreDescribedFromTheSchemaFile: a run publishes each
// table and column to BigQuery with its description from
// sql/marts/schema.yml, the run's thresholds written in; a later run with
// another threshold updates them.
func TestBigQueryTablesAreDescribedFromTheSchemaFile(t *testing.T) {
	fake := bqfake.New(t, "test")
	w := newWorkspace(t, bigqueryYAML(fake))
	w.cfg.KPI.LowUtilizationPct = 45
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	tb, ok := fake.Table("kpis", "customer_monthly")
	if !ok {
		t.Fatal("customer_monthly not published")
	}
	if !strings.HasPrefix(tb.Description, "One row per customer and month") {
		t.Errorf("table description %q", tb.Description)
	}
	descs := map[string]string{}
	for _, f := range tb.Schema {
		descs[f.Name] = f.Description
	}
	if d := descs["low_utilization"]; !strings.HasPrefix(d, "Low utilization: ") || !strings.Contains(d, "below 45 %") || strings.Contains(d, "`") {
		t.Errorf("low_utilization: %q", d)
	}
	if d := descs["usage_pct"]; !strings.HasPrefix(d, "Usage %: active_users / users") {
		t.Errorf("usage_pct: %q", d)
	}
	if len(descs) != len(tb.Schema) || descs["published_at"] == "" {
		t.Errorf("descriptions: %v", descs)
	}
	// The threshold changes: the next run brings the description up to date.
	w.cfg.KPI.LowUtilizationPct = 30
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	tb, _ = fake.Table("kpis", "customer_monthly")
	for _, f := range tb.Schema {
		if f.Name == "low_utilization" && (!strings.Contains(f.Description, "below 30 %") || strings.Contains(f.Description, "45")) {
			t.Errorf("low_utilization after the change: %q", f.Description)
		}
	}
}
