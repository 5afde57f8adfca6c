package bigquery

// Issue 9: the shrink guard, the read-back of row counts, the per-table
// rate limit on table updates and the BIGQUERY_EMULATOR_HOST convention.

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
)

func exec(t *testing.T, conn *sql.Conn, q string) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// changes counts the requests that would change a table: jobs, uploads,
// table inserts and patches.
func changes(fake *bqfake.Server) int {
	n := 0
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPatch || r.Method == http.MethodPut ||
			r.Method == http.MethodPost && (strings.HasSuffix(r.Path, "/jobs") || strings.HasSuffix(r.Path, "/tables")) {
			n++
		}
	}
	return n
}

func TestShrinkGuardRefusesBeforeChangingAnyTable(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	ctx := context.Background()
	run, out := publishedIn("r1")
	if err := connectors.Publish(ctx, d, warehouseWith(t, twoMonths), run, out); err != nil {
		t.Fatal(err)
	}
	// kpi_monthly loses 1 of 2 rows (50 %), kpi_daily 1 of 3 (33 %): with a
	// 30 % limit both are named, with both counts, and nothing changes.
	next := warehouseWith(t, twoMonths)
	exec(t, next, `DELETE FROM kpi_monthly WHERE salesperson = 'Bob'`)
	exec(t, next, `DELETE FROM kpi_daily WHERE dau = 2`)
	run, out = publishedIn("r2")
	run.MaxShrinkPct = 30
	before := changes(fake)
	err := connectors.Publish(ctx, d, next, run, out)
	if err == nil || !strings.Contains(err.Error(), "table kpi_monthly would shrink from 2 to 1 rows (-50.0 %, limit checks.max_shrink_pct = 30 %)") ||
		!strings.Contains(err.Error(), "table kpi_daily would shrink from 3 to 2 rows") || !strings.Contains(err.Error(), "--allow-shrink") {
		t.Fatalf("err = %v", err)
	}
	if n := changes(fake); n != before {
		t.Errorf("%d changing requests after the refusal", n-before)
	}
	if tb := mustTable(t, fake, "kpi_monthly"); len(tb.Rows) != 2 {
		t.Errorf("kpi_monthly: %d rows", len(tb.Rows))
	}
	// A backfill publishes an older, smaller month on purpose: allowed.
	run.Backfill = true
	if err := connectors.Publish(ctx, d, next, run, out); err != nil {
		t.Fatalf("backfill: %v", err)
	}
	run.Backfill = false
	// Within the limit, it publishes.
	run.MaxShrinkPct = 50
	if err := connectors.Publish(ctx, d, next, run, out); err != nil {
		t.Fatal(err)
	}
	if tb := mustTable(t, fake, "kpi_monthly"); salespeople(tb) != "Alice" {
		t.Errorf("kpi_monthly: %s", salespeople(tb))
	}
}

func TestEmptyResultNeverReplacesAPublishedTableSilently(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	ctx := context.Background()
	run, out := publishedIn("r1")
	if err := connectors.Publish(ctx, d, warehouseWith(t, twoMonths), run, out); err != nil {
		t.Fatal(err)
	}
	empty := warehouseWith(t, twoMonths)
	exec(t, empty, `DELETE FROM kpi_monthly`)
	run, out = publishedIn("r2")
	run.MaxShrinkPct = 100 // even a 100 % limit does not let an empty table through
	err := connectors.Publish(ctx, d, empty, run, out)
	if err == nil || !strings.Contains(err.Error(), "table kpi_monthly would be emptied: 0 rows would replace its 2 rows") {
		t.Fatalf("err = %v", err)
	}
	// Nor does a backfill, whose older months may be smaller, never empty.
	run.Backfill = true
	if err := connectors.Publish(ctx, d, empty, run, out); err == nil || !strings.Contains(err.Error(), "would be emptied") {
		t.Fatalf("backfill: err = %v", err)
	}
	run.Backfill = false
	if tb := mustTable(t, fake, "kpi_monthly"); len(tb.Rows) != 2 {
		t.Errorf("kpi_monthly: %d rows", len(tb.Rows))
	}
	run.AllowShrink = true
	if err := connectors.Publish(ctx, d, empty, run, out); err != nil {
		t.Fatal(err)
	}
	if tb := mustTable(t, fake, "kpi_monthly"); len(tb.Rows) != 0 {
		t.Errorf("with --allow-shrink: %d rows", len(tb.Rows))
	}
}

// In incremental mode only the window's rows are replaced, so only they are
// compared: a run over a new month adds rows even though it holds fewer rows
// than the table, and a run whose window lost its rows is refused.
func TestIncrementalShrinkGuardComparesTheWindow(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "mode: incremental\n")
	ctx := context.Background()
	run, out := publishedIn("r1") // August and September: 2 rows
	if err := connectors.Publish(ctx, d, warehouseWith(t, twoMonths), run, out); err != nil {
		t.Fatal(err)
	}
	october := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	run, out = published("r2", october, october)
	run.MaxShrinkPct = 0
	if err := connectors.Publish(ctx, d, warehouseWith(t, `(DATE '2026-10-01', 'Dan', true, 1, 1, 1.0, TIMESTAMP '2026-11-01 02:00:00')`), run, out); err != nil {
		t.Fatal(err)
	}
	september := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	run, out = published("r3", september, october) // September and October lose their rows
	run.MaxShrinkPct = 50
	err := connectors.Publish(ctx, d, warehouseWith(t, `(DATE '2026-08-01', 'Alice', true, 3, 4, 0.75, TIMESTAMP '2026-11-01 02:00:00')`), run, out)
	if err == nil || !strings.Contains(err.Error(), "table kpi_monthly would be emptied: 0 rows would replace its 2 rows with month from 2026-09-01 to 2026-10-31") {
		t.Fatalf("err = %v", err)
	}
	if tb := mustTable(t, fake, "kpi_monthly"); salespeople(tb) != "Alice,Bob,Dan" {
		t.Errorf("rows: %s", salespeople(tb))
	}
}

// A load that silently duplicates or drops rows is caught by reading the
// row counts back after the transaction.
// A load that keeps one row more or fewer than it reports is caught by
// counting its staging table before the transaction: nothing is published.
func TestStagedCountsCatchALoadThatLostOrDuplicatedRows(t *testing.T) {
	for _, c := range []struct {
		delta int
		want  string
	}{{1, "staging table kpi_monthly__stage_r1 holds 3 rows after its load, the run's table kpi_monthly has 2"},
		{-1, "staging table kpi_monthly__stage_r1 holds 1 rows after its load, the run's table kpi_monthly has 2"}} {
		fake := bqfake.New(t, "my-project")
		d := fakeDest(t, fake, "")
		fake.SkewNextLoad(func(cfg map[string]any) bool {
			load, _ := cfg["load"].(map[string]any)
			dest, _ := load["destinationTable"].(map[string]any)
			id, _ := dest["tableId"].(string)
			return strings.HasPrefix(id, "kpi_monthly__stage_")
		}, c.delta)
		run, out := publishedIn("r1")
		err := connectors.Publish(context.Background(), d, warehouseWith(t, twoMonths), run, out)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing was published") || strings.Contains(err.Error(), "kpi_daily") {
			t.Errorf("delta %d: err = %v", c.delta, err)
		}
		if _, ok := fake.Table("kpis", "kpi_monthly"); ok {
			t.Errorf("delta %d: kpi_monthly was published", c.delta)
		}
	}
}

// A fault inside the transaction itself (an INSERT that stores a row more
// or less than it selected) is caught by reading the counts back after the
// commit, loudly.
func TestReadBackCatchesRowsLostOrDuplicated(t *testing.T) {
	for _, c := range []struct {
		delta int
		want  string
	}{{1, "table kpi_monthly holds 3 rows after publishing, the run published 2"}, {-1, "table kpi_monthly holds 1 rows after publishing, the run published 2"}} {
		fake := bqfake.New(t, "my-project")
		d := fakeDest(t, fake, "")
		fake.SkewNextInsert("kpi_monthly", c.delta)
		run, out := publishedIn("r1")
		err := connectors.Publish(context.Background(), d, warehouseWith(t, twoMonths), run, out)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "the transaction committed") || strings.Contains(err.Error(), "kpi_daily") {
			t.Errorf("delta %d: err = %v", c.delta, err)
		}
	}
}

// Two runs in quick succession, the second adding a column, make 5 table
// update operations on a published table (create + INSERT, patch + DELETE +
// INSERT): within BigQuery's 5 per 10 s, without a single retry.
func TestTwoRunsInQuickSuccessionStayUnderTheTableUpdateLimit(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	d.backoff = backoff.Policy{Base: time.Millisecond, Max: time.Millisecond, Attempts: 1}
	ctx := context.Background()
	run, out := publishedWithRuns("r1", 1)
	if err := connectors.Publish(ctx, d, warehouseWithRuns(t, runsR1), run, out); err != nil {
		t.Fatal(err)
	}
	wider := warehouseWithRuns(t, runsR1+", "+runsR2Running)
	exec(t, wider, `ALTER TABLE kpi_monthly ADD COLUMN champions BIGINT DEFAULT 2`)
	run, out = publishedWithRuns("r2", 2)
	if err := connectors.Publish(ctx, d, wider, run, out); err != nil {
		t.Fatal(err)
	}
	if n := fake.TableUpdates("kpis", "kpi_monthly"); n != 5 {
		t.Errorf("kpi_monthly: %d table updates", n)
	}
	for _, tb := range []string{"kpi_daily", "runs"} {
		if n := fake.TableUpdates("kpis", tb); n != 4 {
			t.Errorf("%s: %d table updates", tb, n)
		}
	}
}

func TestEmulatorHostEnvironmentVariable(t *testing.T) {
	fake := bqfake.New(t, "test")
	t.Setenv("BIGQUERY_EMULATOR_HOST", strings.TrimPrefix(fake.URL(), "http://"))
	// No endpoint, no credentials, a project id Google would refuse: the
	// emulator's address is used, without credentials.
	d := newDest(t, "project: test\ndataset: kpis\nlocation: EU\n")
	if d.endpoint != fake.URL() || !strings.HasSuffix(d.Describe(), "at "+fake.URL()) {
		t.Errorf("endpoint %q, %s", d.endpoint, d.Describe())
	}
	run, out := publishedIn("r1")
	if err := connectors.Publish(context.Background(), d, warehouseWith(t, twoMonths), run, out); err != nil {
		t.Fatal(err)
	}
	if tb, ok := fake.Table("kpis", "kpi_monthly"); !ok || len(tb.Rows) != 2 {
		t.Errorf("not published on the emulator's address")
	}
	// A configured endpoint wins over the variable (credentials absent too).
	other := bqfake.New(t, "test")
	d = newDest(t, "project: test\ndataset: kpis\nlocation: EU\nendpoint: "+other.URL()+"\n")
	if err := connectors.Publish(context.Background(), d, warehouseWith(t, twoMonths), run, out); err != nil {
		t.Fatal(err)
	}
	if _, ok := other.Table("kpis", "kpi_monthly"); !ok {
		t.Errorf("the endpoint setting was not used")
	}
	// Without either, Google's API, and Google's project ids.
	t.Setenv("BIGQUERY_EMULATOR_HOST", "")
	if _, err := New(pluginOf(t, "project: test\ndataset: kpis\nlocation: EU\n")); err == nil || !strings.Contains(err.Error(), "is not a Google Cloud project id") {
		t.Errorf("err = %v", err)
	}
}

func pluginOf(t *testing.T, yamlText string) config.Plugin {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("kind: bigquery\n"+yamlText), &doc); err != nil {
		t.Fatal(err)
	}
	return config.Plugin{Name: "bq", Kind: "bigquery", Node: doc.Content[0], File: "uptake.yaml"}
}
