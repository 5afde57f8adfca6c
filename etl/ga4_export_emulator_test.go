package etl_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	"google.golang.org/api/option"

	"github.com/uptake-dev/uptake/etl"
)

// A day exported only as its intraday table is pulled again by the next
// run's lookback once its daily table exists, and the daily table replaces
// it: no double count. On the BigQuery emulator (a real GoogleSQL engine).
func TestGA4ExportDailyTableReplacesIntraday(t *testing.T) {
	host := os.Getenv("BIGQUERY_EMULATOR_HOST")
	if host == "" {
		t.Skip("BIGQUERY_EMULATOR_HOST is not set: start the BigQuery emulator to run this test")
	}
	project := os.Getenv("BIGQUERY_EMULATOR_PROJECT")
	if project == "" {
		project = "test"
	}
	ctx := context.Background()
	dataset := fmt.Sprintf("analytics_%d", time.Now().UnixNano()%1_000_000_000)
	c, err := bq.NewClient(ctx, project, option.WithEndpoint("http://"+host+"/bigquery/v2/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Dataset(dataset).Create(ctx, &bq.DatasetMetadata{Location: "US"}); err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		job, err := c.Query(q).Run(ctx)
		if err == nil {
			_, err = job.Wait(ctx)
		}
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	table := func(name string, users ...string) {
		t.Helper()
		exec(fmt.Sprintf("CREATE TABLE `%s.%s.%s` (event_timestamp INT64, event_name STRING, user_id STRING, user_pseudo_id STRING, user_properties ARRAY<STRUCT<key STRING, value STRUCT<string_value STRING, int_value INT64>>>)", project, dataset, name))
		var rows []string
		for i, u := range users { // Sep 2, 10:00 UTC onwards: noon in Paris
			rows = append(rows, fmt.Sprintf("(%d, 'page_view', '%s', 'p-%s', [STRUCT('customer_ref' AS key, STRUCT('E1' AS string_value, CAST(NULL AS INT64) AS int_value) AS value)])",
				time.Date(2026, 9, 2, 10, i, 0, 0, time.UTC).UnixMicro(), u, u))
		}
		exec(fmt.Sprintf("INSERT INTO `%s.%s.%s` VALUES %s", project, dataset, name, strings.Join(rows, ", ")))
	}
	table("events_intraday_20260902", "u1")
	w := newWorkspace(t, fmt.Sprintf(`
  - name: export
    kind: ga4_bigquery
    project: %s
    dataset: %s
    location: US
    customer_property: customer_ref
    usage_events: [page_view]
    start_date: 2026-09-02
    endpoint: http://%s
`, project, dataset, host))
	pulled := func() string {
		return strings.Join(queryCells(t, w.cfg, `SELECT strftime(day, '%m-%d'), user_id, sum(count) FROM raw_activity
			WHERE source = 'ga4_bigquery' GROUP BY ALL ORDER BY ALL`), ", ")
	}
	// Sep 3: only the intraday table of Sep 2 exists: u1's one view.
	if _, err := etl.Run(ctx, etl.Options{Config: w.cfg, AsOf: date(2026, 9, 3), Logger: discard()}); err != nil {
		t.Fatal(err)
	}
	if got := pulled(); got != "09-02 u1 1" {
		t.Errorf("from the intraday table: %s", got)
	}
	// The daily table of Sep 2 lands (u1 twice, u2 once); the Sep 4 run's
	// lookback reads Sep 2 again: 3 views from the daily table, not 4.
	table("events_20260902", "u1", "u1", "u2")
	if _, err := etl.Run(ctx, etl.Options{Config: w.cfg, AsOf: date(2026, 9, 4), Logger: discard()}); err != nil {
		t.Fatal(err)
	}
	if got := pulled(); got != "09-02 u1 2, 09-02 u2 1" {
		t.Errorf("after the daily table: %s", got)
	}
}
