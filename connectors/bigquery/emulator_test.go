package bigquery

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	"go.yaml.in/yaml/v3"
	"google.golang.org/api/iterator"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/connectors/bigquery/bqemu"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

// emulator returns the BigQuery emulator's address and project, or skips.
func emulator(t *testing.T) (host, project string) { return bqemu.Address(t) }

func newDest(t *testing.T, yamlText string) *Destination {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("kind: bigquery\n"+yamlText), &doc); err != nil {
		t.Fatal(err)
	}
	d, err := New(config.Plugin{Name: "bq", Kind: "bigquery", Node: doc.Content[0], File: "uptake.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	d.backoff = backoff.Policy{Base: time.Millisecond, Max: 4 * time.Millisecond, Attempts: 4}
	return d
}

// warehouseWith opens an in-memory DuckDB holding small output tables:
// kpi_monthly (month × salesperson) and kpi_daily (day).
func warehouseWith(t *testing.T, monthly string) *sql.Conn {
	t.Helper()
	conn := sqltest.Conn(t)
	for _, q := range []string{
		`CREATE TABLE kpi_monthly (month DATE, salesperson VARCHAR, complete BOOLEAN, active_customers BIGINT, seats INTEGER, monthly_active_rate DOUBLE, published_at TIMESTAMP)`,
		`INSERT INTO kpi_monthly VALUES ` + monthly,
		`CREATE TABLE kpi_daily AS SELECT DATE '2026-09-01' + INTERVAL (i) DAY AS day, i::BIGINT AS dau FROM range(3) t(i)`,
		`ALTER TABLE kpi_daily ALTER day TYPE DATE`,
	} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return conn
}

func published(runID string, start, end time.Time) (connectors.Run, connectors.Published) {
	run := connectors.Run{ID: runID, StartedAt: time.Now(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxShrinkPct: 50}
	out := connectors.Published{
		Tables:  []string{"kpi_monthly", "kpi_daily"},
		RowsOut: map[string]int64{"kpi_monthly": 2, "kpi_daily": 3},
		Docs: map[string]uptakesql.TableDoc{"kpi_monthly": {Description: "The monthly KPIs per salesperson.",
			Columns: map[string]uptakesql.ColumnDoc{"monthly_active_rate": {Label: "Monthly active rate", Definition: "active customers / activated customers"}}}},
		WindowStart: start, WindowEnd: end,
	}
	return run, out
}

// query runs GoogleSQL on the emulator and returns rows as strings.
func query(t *testing.T, c *bq.Client, q string) []string {
	t.Helper()
	it, err := c.Query(q).Read(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out []string
	for {
		var row []bq.Value
		err := it.Next(&row)
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range row {
			parts = append(parts, fmt.Sprint(v))
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func TestEmulatorPublishAndRepublish(t *testing.T) {
	host, project := emulator(t)
	dataset := fmt.Sprintf("uptake_e2e_%d", time.Now().UnixNano())
	d := newDest(t, fmt.Sprintf("project: %s\ndataset: %s\nlocation: US\nendpoint: http://%s\ntable_prefix: up_\n", project, dataset, host))
	ctx := context.Background()

	conn := warehouseWith(t, `(DATE '2026-08-01', 'Alice', true, 3, 4, 0.75, TIMESTAMP '2026-10-01 02:00:00'),
		(DATE '2026-09-01', 'Bob', false, 1, NULL, NULL, TIMESTAMP '2026-10-01 02:00:00')`)
	// The warehouse runs in the business time zone; published_at holds UTC.
	if _, err := conn.ExecContext(ctx, "SET TimeZone = 'Europe/Paris'"); err != nil {
		t.Fatal(err)
	}
	run, out := published("run-1", time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
	if err := connectors.Publish(ctx, d, conn, run, out); err != nil {
		t.Fatal(err)
	}
	c, err := d.client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ref := fmt.Sprintf("`%s.%s.up_kpi_monthly`", project, dataset)
	want := []string{"2026-08-01|Alice|true|3|4|0.75", "2026-09-01|Bob|false|1|<nil>|<nil>"}
	got := query(t, c, "SELECT month, salesperson, complete, active_customers, seats, monthly_active_rate FROM "+ref+" ORDER BY month")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := query(t, c, "SELECT FORMAT_TIMESTAMP('%F %T', MAX(published_at), 'UTC') FROM "+ref); len(got) != 1 || got[0] != "2026-10-01 02:00:00" {
		t.Errorf("published_at = %v, want 2026-10-01 02:00:00 UTC", got)
	}
	if got := query(t, c, fmt.Sprintf("SELECT COUNT(*) FROM `%s.%s.up_kpi_daily`", project, dataset)); len(got) != 1 || got[0] != "3" {
		t.Errorf("kpi_daily rows = %v", got)
	}
	md, err := c.Dataset(dataset).Table("up_kpi_monthly").Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if md.TimePartitioning == nil || md.TimePartitioning.Field != "month" || md.TimePartitioning.Type != bq.MonthPartitioningType {
		t.Errorf("partitioning = %+v", md.TimePartitioning)
	}
	if md.Clustering == nil || strings.Join(md.Clustering.Fields, ",") != "salesperson" {
		t.Errorf("clustering = %+v", md.Clustering)
	}
	types := map[string]bq.FieldType{}
	descriptions := map[string]string{}
	for _, f := range md.Schema {
		types[f.Name] = f.Type
		descriptions[f.Name] = f.Description
	}
	// Looker Studio's field list: the table's and the columns' descriptions.
	if md.Description != "The monthly KPIs per salesperson." || descriptions["monthly_active_rate"] != "Monthly active rate: active customers / activated customers" {
		t.Errorf("descriptions: table %q, monthly_active_rate %q", md.Description, descriptions["monthly_active_rate"])
	}
	if types["month"] != bq.DateFieldType || types["active_customers"] != bq.IntegerFieldType || types["seats"] != bq.IntegerFieldType ||
		types["monthly_active_rate"] != bq.FloatFieldType || types["published_at"] != bq.TimestampFieldType || types["complete"] != bq.BooleanFieldType {
		t.Errorf("schema types = %v", types)
	}

	// The same run again gives the same rows, not twice as many; a changed
	// definition (a threshold of the config) is patched in.
	run.ID = "run-2"
	out.Docs["kpi_monthly"].Columns["monthly_active_rate"] = uptakesql.ColumnDoc{Label: "Monthly active rate", Definition: "a score of 2 or more"}
	if err := connectors.Publish(ctx, d, conn, run, out); err != nil {
		t.Fatal(err)
	}
	md, err = c.Dataset(dataset).Table("up_kpi_monthly").Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range md.Schema {
		if f.Name == "monthly_active_rate" && f.Description != "Monthly active rate: a score of 2 or more" {
			t.Errorf("after a changed definition: %q", f.Description)
		}
	}
	if got := query(t, c, "SELECT month, salesperson, complete, active_customers, seats, monthly_active_rate FROM "+ref+" ORDER BY month"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after a re-run:\n%s", strings.Join(got, "\n"))
	}
	// Staging tables are gone.
	it := c.Dataset(dataset).Tables(ctx)
	for {
		tb, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(tb.TableID, "__stage_") {
			t.Errorf("staging table %s left behind", tb.TableID)
		}
	}
}

func TestEmulatorIncrementalReplacesOnlyTheWindow(t *testing.T) {
	host, project := emulator(t)
	dataset := fmt.Sprintf("uptake_inc_%d", time.Now().UnixNano())
	d := newDest(t, fmt.Sprintf("project: %s\ndataset: %s\nlocation: US\nendpoint: http://%s\nmode: incremental\n", project, dataset, host))
	ctx := context.Background()
	first := warehouseWith(t, `(DATE '2026-08-01', 'Alice', true, 3, 4, 0.75, TIMESTAMP '2026-10-01 02:00:00'),
		(DATE '2026-09-01', 'Alice', true, 2, 4, 0.5, TIMESTAMP '2026-10-01 02:00:00')`)
	run, out := published("r1", time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
	if err := connectors.Publish(ctx, d, first, run, out); err != nil {
		t.Fatal(err)
	}
	// The next run covers September and October only: August stays as it was.
	second := warehouseWith(t, `(DATE '2026-09-01', 'Alice', true, 5, 4, 1.0, TIMESTAMP '2026-11-01 02:00:00'),
		(DATE '2026-10-01', 'Alice', false, 1, 4, 0.25, TIMESTAMP '2026-11-01 02:00:00')`)
	run, out = published("r2", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	if err := connectors.Publish(ctx, d, second, run, out); err != nil {
		t.Fatal(err)
	}
	c, _ := d.client(ctx)
	defer c.Close()
	got := query(t, c, fmt.Sprintf("SELECT month, active_customers FROM `%s.%s.kpi_monthly` ORDER BY month", project, dataset))
	if strings.Join(got, ",") != "2026-08-01|3,2026-09-01|5,2026-10-01|1" {
		t.Errorf("rows = %v", got)
	}
}

// The runs table on GoogleSQL: no partitioning or clustering, replaced
// whole (in incremental mode too), timestamps in UTC and the counts as text.
func TestEmulatorRunsTableIsReplacedWholly(t *testing.T) {
	for _, mode := range []string{"full", "incremental"} {
		t.Run(mode, func(t *testing.T) { testEmulatorRunsTable(t, mode) })
	}
}

func testEmulatorRunsTable(t *testing.T, mode string) {
	host, project := emulator(t)
	dataset := fmt.Sprintf("uptake_runs_%s_%d", mode, time.Now().UnixNano())
	d := newDest(t, fmt.Sprintf("project: %s\ndataset: %s\nlocation: US\nendpoint: http://%s\nmode: %s\n", project, dataset, host, mode))
	ctx := context.Background()
	for _, p := range []struct {
		id   string
		n    int64
		rows string
	}{{"r2", 2, runsR1 + ", " + runsR2Running}, {"r3", 3, runsR1 + ", " + runsR2Done + ", " + runsR3Running}} {
		conn := warehouseWithRuns(t, p.rows)
		if _, err := conn.ExecContext(ctx, "SET TimeZone = 'Europe/Paris'"); err != nil {
			t.Fatal(err)
		}
		run, out := publishedWithRuns(p.id, p.n)
		if err := connectors.Publish(ctx, d, conn, run, out); err != nil {
			t.Fatal(err)
		}
	}
	c, err := d.client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := query(t, c, fmt.Sprintf("SELECT run_id, `trigger`, status, FORMAT_TIMESTAMP('%%F %%T', started_at, 'UTC'), rows_out FROM `%s.%s.runs` ORDER BY started_at", project, dataset))
	want := []string{"r1|manual|success|2026-10-01 02:00:00|{\"kpi_monthly\":2}", "r2|schedule|success|2026-10-02 02:00:00|{}", "r3|schedule|running|2026-10-03 02:00:00|<nil>"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("runs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	md, err := c.Dataset(dataset).Table("runs").Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if md.TimePartitioning != nil || (md.Clustering != nil && len(md.Clustering.Fields) > 0) {
		t.Errorf("runs: partitioning %+v clustering %+v", md.TimePartitioning, md.Clustering)
	}
}

// The COUNT(*) statements of the shrink guard and of the read-back, on
// GoogleSQL: a run that would empty a table is refused and changes nothing;
// with --allow-shrink it publishes (and its read-back passes); in
// incremental mode the counts cover the window.
func TestEmulatorShrinkGuardAndReadBack(t *testing.T) {
	for _, mode := range []string{"full", "incremental"} {
		t.Run(mode, func(t *testing.T) {
			host, project := emulator(t)
			dataset := fmt.Sprintf("uptake_shrink_%s_%d", mode, time.Now().UnixNano())
			d := newDest(t, fmt.Sprintf("project: %s\ndataset: %s\nlocation: US\nendpoint: http://%s\nmode: %s\n", project, dataset, host, mode))
			ctx := context.Background()
			run, out := published("r1", time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
			if err := connectors.Publish(ctx, d, warehouseWith(t, twoMonths), run, out); err != nil {
				t.Fatal(err)
			}
			// September loses its row: in full mode the table goes from 2 to 1
			// (-50 %), in incremental mode over September the window is emptied.
			next := warehouseWith(t, `(DATE '2026-08-01', 'Alice', true, 3, 4, 0.75, TIMESTAMP '2026-10-01 02:00:00')`)
			run, out = published("r2", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
			run.MaxShrinkPct = 40
			want := map[string]string{"full": "table kpi_monthly would shrink from 2 to 1 rows (-50.0 %",
				"incremental": "table kpi_monthly would be emptied: 0 rows would replace its 1 rows with month from 2026-09-01 to 2026-09-30"}[mode]
			if err := connectors.Publish(ctx, d, next, run, out); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v", err)
			}
			c, err := d.client(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ref := fmt.Sprintf("`%s.%s.kpi_monthly`", project, dataset)
			if got := query(t, c, "SELECT COUNT(*) FROM "+ref); strings.Join(got, ",") != "2" {
				t.Errorf("after the refusal: %v rows", got)
			}
			run.AllowShrink = true
			if err := connectors.Publish(ctx, d, next, run, out); err != nil {
				t.Fatal(err)
			}
			if got := query(t, c, "SELECT salesperson FROM "+ref+" ORDER BY month"); strings.Join(got, ",") != "Alice" {
				t.Errorf("with --allow-shrink: %v", got)
			}
		})
	}
}

// BIGQUERY_EMULATOR_HOST alone points the destination at the emulator.
func TestEmulatorHostVariableAlone(t *testing.T) {
	_, project := emulator(t)
	dataset := fmt.Sprintf("uptake_env_%d", time.Now().UnixNano())
	d := newDest(t, fmt.Sprintf("project: %s\ndataset: %s\nlocation: US\n", project, dataset))
	run, out := published("r1", time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
	if err := connectors.Publish(context.Background(), d, warehouseWith(t, twoMonths), run, out); err != nil {
		t.Fatal(err)
	}
}
