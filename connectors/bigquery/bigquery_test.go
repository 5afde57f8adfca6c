package bigquery

// The bigquery destination, with the real client library talking over HTTP
// to bqfake, an in-process fake of the BigQuery REST API (emulator_test.go
// runs the same publishes on the BigQuery emulator's GoogleSQL engine).

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
)

const twoMonths = `(DATE '2026-08-01', 'Alice', true, 3, 4, 0.75, TIMESTAMP '2026-10-01 02:00:00'),
	(DATE '2026-09-01', 'Bob', false, 1, NULL, NULL, TIMESTAMP '2026-10-01 02:00:00')`

func fakeDest(t *testing.T, fake *bqfake.Server, extra string) *Destination {
	t.Helper()
	d := newDest(t, "project: my-project\ndataset: kpis\nlocation: EU\n"+extra)
	d.opts = fake.ClientOptions()
	d.endpoint = "" // the fake's options, even when BIGQUERY_EMULATOR_HOST is set
	return d
}

// publishedIn describes a run over August and September 2026.
func publishedIn(runID string) (connectors.Run, connectors.Published) {
	return published(runID, time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
}

func mustTable(t *testing.T, fake *bqfake.Server, name string) *bqfake.Table {
	t.Helper()
	tb, ok := fake.Table("kpis", name)
	if !ok {
		t.Fatalf("table %s not published", name)
	}
	return tb
}

func salespeople(tb *bqfake.Table) string {
	var s []string
	for _, r := range tb.Rows {
		s = append(s, r["salesperson"].(string))
	}
	return strings.Join(s, ",")
}

func TestPublishCreatesPartitionedTablesWithRowsAndDescriptions(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	run, out := publishedIn("20261001T020000Z-ab12")
	if err := connectors.Publish(context.Background(), d, warehouseWith(t, twoMonths), run, out); err != nil {
		t.Fatal(err)
	}
	tb := mustTable(t, fake, "kpi_monthly")
	var schema []string
	for _, f := range tb.Schema {
		schema = append(schema, f.Name+":"+f.Type)
	}
	if got := strings.Join(schema, " "); got != "month:DATE salesperson:STRING complete:BOOLEAN active_customers:INTEGER seats:INTEGER monthly_active_rate:FLOAT published_at:TIMESTAMP" {
		t.Errorf("schema = %s", got)
	}
	if tb.Description != "The monthly KPIs per salesperson." || tb.Schema[5].Description != "Monthly active rate: active customers / activated customers" {
		t.Errorf("descriptions: table %q, monthly_active_rate %q", tb.Description, tb.Schema[5].Description)
	}
	if tb.Partitioning == nil || tb.Partitioning.Type != "MONTH" || tb.Partitioning.Field != "month" || strings.Join(tb.Clustering, ",") != "salesperson" {
		t.Errorf("partitioning %+v clustering %v", tb.Partitioning, tb.Clustering)
	}
	if !tb.Expiration.IsZero() {
		t.Errorf("published table expires at %v", tb.Expiration)
	}
	if len(tb.Rows) != 2 {
		t.Fatalf("%d rows", len(tb.Rows))
	}
	want := map[string]any{"month": civil.Date{Year: 2026, Month: 8, Day: 1}, "salesperson": "Alice", "complete": true,
		"active_customers": int64(3), "seats": int64(4), "monthly_active_rate": 0.75,
		"published_at": time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC)}
	for k, v := range want {
		got := tb.Rows[0][k]
		if gt, ok := got.(time.Time); ok {
			if !gt.Equal(v.(time.Time)) {
				t.Errorf("%s = %v, want %v", k, got, v)
			}
		} else if got != v {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	if tb.Rows[1]["seats"] != nil || tb.Rows[1]["monthly_active_rate"] != nil {
		t.Errorf("NULLs: %v", tb.Rows[1])
	}
	daily := mustTable(t, fake, "kpi_daily")
	if daily.Partitioning == nil || daily.Partitioning.Field != "day" || len(daily.Rows) != 3 {
		t.Errorf("kpi_daily: %+v, %d rows", daily.Partitioning, len(daily.Rows))
	}
	// Staging tables of the run are gone; they were created to expire in a day.
	for _, name := range []string{"kpi_monthly__stage_20261001t020000z_ab12", "kpi_daily__stage_20261001t020000z_ab12"} {
		if _, ok := fake.Table("kpis", name); ok {
			t.Errorf("staging table %s left behind", name)
		}
	}
	// What the client sent: Parquet load jobs with the schema into the staging
	// tables, WRITE_TRUNCATE; then one transaction (that deletes nothing
	// from tables it has just created).
	var loads, queries int
	for _, r := range fake.Requests() {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.Path, "/jobs") {
			continue
		}
		var job struct {
			Configuration struct {
				Load *struct {
					SourceFormat, WriteDisposition string
					DestinationTable               struct{ TableID string }
					Schema                         struct{ Fields []any }
				}
				Query *struct{ Query string }
			}
		}
		if err := json.Unmarshal(r.Body, &job); err != nil {
			t.Fatal(err)
		}
		switch c := job.Configuration; {
		case c.Load != nil:
			loads++
			if c.Load.SourceFormat != "PARQUET" || c.Load.WriteDisposition != "WRITE_TRUNCATE" || len(c.Load.Schema.Fields) == 0 ||
				!strings.Contains(c.Load.DestinationTable.TableID, "__stage_") {
				t.Errorf("load job: %+v", c.Load)
			}
		case c.Query != nil:
			queries++
			q := c.Query.Query
			if !strings.HasPrefix(q, "BEGIN TRANSACTION;") || !strings.HasSuffix(q, "COMMIT TRANSACTION;") || strings.Count(q, "INSERT INTO") != 2 || strings.Count(q, "DELETE FROM") != 0 {
				t.Errorf("transaction:\n%s", q)
			}
		}
	}
	if loads != 2 || queries != 1 {
		t.Errorf("%d load jobs and %d queries, want 2 and 1", loads, queries)
	}
}

func TestRepublishingGivesTheSameRows(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	conn := warehouseWith(t, twoMonths)
	for _, id := range []string{"r1", "r2"} {
		run, out := publishedIn(id)
		if err := connectors.Publish(context.Background(), d, conn, run, out); err != nil {
			t.Fatal(err)
		}
	}
	if tb := mustTable(t, fake, "kpi_monthly"); len(tb.Rows) != 2 || salespeople(tb) != "Alice,Bob" {
		t.Errorf("after two runs: %d rows (%s)", len(tb.Rows), salespeople(tb))
	}
}

func TestRateLimitAndServerErrorsAreRetried(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	uploads := func(r bqfake.Request) bool {
		return strings.HasPrefix(r.Path, "/upload/") && r.Method == http.MethodPost
	}
	fake.FailNext(uploads, http.StatusTooManyRequests, "rateLimitExceeded", 1)
	fake.FailNext(uploads, http.StatusInternalServerError, "backendError", 1)
	run, out := publishedIn("r1")
	if err := connectors.Publish(context.Background(), d, warehouseWith(t, twoMonths), run, out); err != nil {
		t.Fatal(err)
	}
	if tb := mustTable(t, fake, "kpi_monthly"); len(tb.Rows) != 2 {
		t.Errorf("%d rows", len(tb.Rows))
	}
	n := 0
	for _, r := range fake.Requests() {
		if uploads(r) {
			n++
		}
	}
	if n != 4 { // 2 tables + 2 retried attempts
		t.Errorf("%d upload requests, want 4", n)
	}
}

func TestAFailureHalfWayLeavesThePublishedTables(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	run, out := publishedIn("r1")
	if err := connectors.Publish(context.Background(), d, warehouseWith(t, twoMonths), run, out); err != nil {
		t.Fatal(err)
	}
	next := warehouseWith(t, `(DATE '2026-09-01', 'Carol', true, 9, 9, 1.0, TIMESTAMP '2026-11-01 02:00:00')`)
	// The second table's load fails: the first one was staged, nothing is published.
	fake.FailJob(func(c map[string]any) bool {
		load, _ := c["load"].(map[string]any)
		dest, _ := load["destinationTable"].(map[string]any)
		id, _ := dest["tableId"].(string)
		return strings.HasPrefix(id, "kpi_daily__stage_")
	}, "invalid", "Error while reading data")
	run, out = publishedIn("r2")
	if err := connectors.Publish(context.Background(), d, next, run, out); err == nil || !strings.Contains(err.Error(), "Error while reading data") {
		t.Fatalf("err = %v", err)
	}
	if tb := mustTable(t, fake, "kpi_monthly"); salespeople(tb) != "Alice,Bob" {
		t.Errorf("after a failed load: %s", salespeople(tb))
	}
	// The transaction fails: both tables stay as they were.
	fake.FailJob(func(c map[string]any) bool { _, ok := c["query"]; return ok }, "invalidQuery", "Transaction aborted")
	run, out = publishedIn("r3")
	if err := connectors.Publish(context.Background(), d, next, run, out); err == nil || !strings.Contains(err.Error(), "Transaction aborted") {
		t.Fatalf("err = %v", err)
	}
	if tb := mustTable(t, fake, "kpi_monthly"); salespeople(tb) != "Alice,Bob" {
		t.Errorf("after a failed transaction: %s", salespeople(tb))
	}
	if tb := mustTable(t, fake, "kpi_daily"); len(tb.Rows) != 3 {
		t.Errorf("kpi_daily: %d rows", len(tb.Rows))
	}
	// Staging tables were dropped after both failures.
	for _, id := range []string{"r2", "r3"} {
		if _, ok := fake.Table("kpis", "kpi_monthly__stage_"+id); ok {
			t.Errorf("staging table of %s left behind", id)
		}
	}
}

func TestColumnsAreAddedNeverChanged(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	ctx := context.Background()
	run, out := publishedIn("r1")
	if err := connectors.Publish(ctx, d, warehouseWith(t, twoMonths), run, out); err != nil {
		t.Fatal(err)
	}
	// A new column at the end: the published table is patched, rows land.
	wider := warehouseWith(t, twoMonths)
	if _, err := wider.ExecContext(ctx, `ALTER TABLE kpi_monthly ADD COLUMN champions BIGINT DEFAULT 2`); err != nil {
		t.Fatal(err)
	}
	run, out = publishedIn("r2")
	if err := connectors.Publish(ctx, d, wider, run, out); err != nil {
		t.Fatal(err)
	}
	tb := mustTable(t, fake, "kpi_monthly")
	if last := tb.Schema[len(tb.Schema)-1]; last.Name != "champions" || last.Type != "INTEGER" || tb.Rows[0]["champions"] != int64(2) {
		t.Errorf("after adding a column: %+v, %v", last, tb.Rows[0])
	}
	// A changed type is an error naming the table and the column; nothing changes.
	retyped := warehouseWith(t, twoMonths)
	if _, err := retyped.ExecContext(ctx, `ALTER TABLE kpi_monthly ALTER active_customers TYPE VARCHAR`); err != nil {
		t.Fatal(err)
	}
	if _, err := retyped.ExecContext(ctx, `ALTER TABLE kpi_monthly ADD COLUMN champions BIGINT DEFAULT 2`); err != nil {
		t.Fatal(err)
	}
	run, out = publishedIn("r3")
	err := connectors.Publish(ctx, d, retyped, run, out)
	if err == nil || !strings.Contains(err.Error(), "table kpi_monthly: column active_customers changed type from INTEGER to STRING") {
		t.Fatalf("err = %v", err)
	}
	if tb := mustTable(t, fake, "kpi_monthly"); tb.Rows[0]["active_customers"] != int64(3) {
		t.Errorf("rows changed: %v", tb.Rows[0])
	}
}

func TestPermissionErrorsSayWhichRole(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	fake.FailNext(func(r bqfake.Request) bool { return strings.Contains(r.Path, "/datasets/kpis") }, http.StatusForbidden, "accessDenied", 1)
	run, out := publishedIn("r1")
	err := connectors.Publish(context.Background(), d, warehouseWith(t, twoMonths), run, out)
	if err == nil || !strings.Contains(err.Error(), "roles/bigquery.dataEditor") || !strings.Contains(err.Error(), "roles/bigquery.jobUser") {
		t.Fatalf("err = %v", err)
	}
}

func TestDatasetThatWouldExpireTablesIsRefused(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	ctx := context.Background()
	c, err := bq.NewClient(ctx, "my-project", fake.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Dataset("kpis").Create(ctx, &bq.DatasetMetadata{Location: "EU", DefaultTableExpiration: 60 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	d := fakeDest(t, fake, "")
	if errs := d.Check(ctx, nil, connectors.Run{}); len(errs) != 1 || !strings.Contains(errs[0].Error(), "deletes tables after") {
		t.Errorf("check: %v", errs)
	}
	run, out := publishedIn("r1")
	if err := connectors.Publish(ctx, d, warehouseWith(t, twoMonths), run, out); err == nil || !strings.Contains(err.Error(), "--default_table_expiration 0") {
		t.Fatalf("err = %v", err)
	}
	if _, ok := fake.Table("kpis", "kpi_monthly"); ok {
		t.Error("published into a dataset that expires tables")
	}
}

func TestIncrementalScriptReplacesTheWindow(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "mode: incremental\n")
	ctx := context.Background()
	run, out := publishedIn("r1")
	if err := connectors.Publish(ctx, d, warehouseWith(t, twoMonths), run, out); err != nil {
		t.Fatal(err)
	}
	// September and October only: August stays.
	run, out = published("r2", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	next := warehouseWith(t, `(DATE '2026-09-01', 'Carol', true, 9, 9, 1.0, TIMESTAMP '2026-11-01 02:00:00'),
		(DATE '2026-10-01', 'Dan', true, 1, 1, 1.0, TIMESTAMP '2026-11-01 02:00:00')`)
	if err := connectors.Publish(ctx, d, next, run, out); err != nil {
		t.Fatal(err)
	}
	if tb := mustTable(t, fake, "kpi_monthly"); salespeople(tb) != "Alice,Carol,Dan" {
		t.Errorf("rows: %s", salespeople(tb))
	}
}

// The runs table (run history) has no month or day column: it is published
// unpartitioned and unclustered, and replaced wholly even in incremental mode.
func TestRunsTableIsReplacedWholly(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "mode: incremental\n")
	ctx := context.Background()
	publish := func(conn *sql.Conn, id string, n int64) {
		t.Helper()
		run, out := publishedWithRuns(id, n)
		if err := connectors.Publish(ctx, d, conn, run, out); err != nil {
			t.Fatal(err)
		}
	}
	publish(warehouseWithRuns(t, runsR1+", "+runsR2Running), "r2", 2)
	publish(warehouseWithRuns(t, runsR1+", "+runsR2Done+", "+runsR3Running), "r3", 3)
	tb := mustTable(t, fake, "runs")
	if tb.Partitioning != nil || len(tb.Clustering) != 0 {
		t.Errorf("runs: partitioning %+v clustering %v", tb.Partitioning, tb.Clustering)
	}
	var schema []string
	for _, f := range tb.Schema {
		schema = append(schema, f.Name+":"+f.Type)
	}
	if got := strings.Join(schema, " "); got != "run_id:STRING job:STRING trigger:STRING window_start:DATE window_end:DATE started_at:TIMESTAMP ended_at:TIMESTAMP "+
		"status:STRING rows_in:STRING rows_out:STRING error:STRING published_at:TIMESTAMP" {
		t.Errorf("schema = %s", got)
	}
	status := map[string]any{}
	for _, r := range tb.Rows {
		status[r["run_id"].(string)] = r["status"]
	}
	if len(tb.Rows) != 3 || status["r1"] != "success" || status["r2"] != "success" || status["r3"] != "running" {
		t.Errorf("runs rows: %v", tb.Rows)
	}
	for _, r := range tb.Rows {
		if r["run_id"] == "r1" && (r["rows_out"] != `{"kpi_monthly":2}` || !r["started_at"].(time.Time).Equal(time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC))) {
			t.Errorf("r1: %v", r)
		}
	}
}

// Rows of a runs table (the run history mart) over three runs.
const (
	runsR1 = `('r1', 'default', 'manual', DATE '2026-08-01', DATE '2026-09-01', TIMESTAMP '2026-10-01 02:00:00', TIMESTAMP '2026-10-01 02:00:05',
		'success', '{"raw_customers":17}', '{"kpi_monthly":2}', NULL, TIMESTAMP '2026-10-02 02:00:00')`
	runsR2Running = `('r2', 'default', 'schedule', NULL, NULL, TIMESTAMP '2026-10-02 02:00:00', NULL, 'running', NULL, NULL, NULL, TIMESTAMP '2026-10-02 02:00:00')`
	runsR2Done    = `('r2', 'default', 'schedule', DATE '2026-08-01', DATE '2026-09-01', TIMESTAMP '2026-10-02 02:00:00', TIMESTAMP '2026-10-02 02:00:04',
		'success', '{}', '{}', NULL, TIMESTAMP '2026-10-03 02:00:00')`
	runsR3Running = `('r3', 'default', 'schedule', NULL, NULL, TIMESTAMP '2026-10-03 02:00:00', NULL, 'running', NULL, NULL, NULL, TIMESTAMP '2026-10-03 02:00:00')`
)

// warehouseWithRuns is warehouseWith(twoMonths) plus a runs table shaped
// like sql/marts/runs.sql.
func warehouseWithRuns(t *testing.T, rows string) *sql.Conn {
	t.Helper()
	conn := warehouseWith(t, twoMonths)
	for _, q := range []string{
		`CREATE TABLE runs (run_id VARCHAR, job VARCHAR, "trigger" VARCHAR, window_start DATE, window_end DATE,
			started_at TIMESTAMP, ended_at TIMESTAMP, status VARCHAR, rows_in VARCHAR, rows_out VARCHAR, error VARCHAR, published_at TIMESTAMP)`,
		`INSERT INTO runs VALUES ` + rows,
	} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

// publishedWithRuns describes a run over September 2026 that publishes runs too.
func publishedWithRuns(runID string, runs int64) (connectors.Run, connectors.Published) {
	run, out := published(runID, time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
	out.Tables = append(out.Tables, "runs")
	out.RowsOut["runs"] = runs
	return run, out
}

func TestCheckTellsWhetherTheDatasetCanBeReached(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "")
	ctx := context.Background()
	// A dataset that does not exist yet is fine: the first run creates it.
	if errs := d.Check(ctx, nil, connectors.Run{}); len(errs) != 0 {
		t.Errorf("check of a missing dataset: %v", errs)
	}
	fake.FailNext(func(r bqfake.Request) bool { return strings.Contains(r.Path, "/datasets/kpis") }, http.StatusForbidden, "accessDenied", 1)
	errs := d.Check(ctx, nil, connectors.Run{})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "my-project.kpis (EU)") || !strings.Contains(errs[0].Error(), "roles/bigquery.dataEditor") {
		t.Errorf("check without permission: %v", errs)
	}
}

func TestIncrementalRunWithoutMonthsReplacesNothing(t *testing.T) {
	fake := bqfake.New(t, "my-project")
	d := fakeDest(t, fake, "mode: incremental\n")
	loaded := []staged{{published: "kpi_monthly", stage: "kpi_monthly__stage_r", cols: []column{{"month", "DATE"}, {"n", "BIGINT"}}}}
	script, params := d.script(loaded, connectors.Published{})
	if !strings.Contains(script, "DELETE FROM `my-project.kpis.kpi_monthly` WHERE FALSE;") || !strings.Contains(script, "FROM `my-project.kpis.kpi_monthly__stage_r` WHERE FALSE;") || params != nil {
		t.Errorf("script:\n%s\nparams %v", script, params)
	}
}
