package ga4bigquery

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"go.yaml.in/yaml/v3"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
	"github.com/uptake-dev/uptake/etl/warehouse"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

func TestConfigIsValidatedBeforeAnyQuery(t *testing.T) {
	var doc yaml.Node
	yaml.Unmarshal([]byte("kind: ga4_bigquery\nproject: \"my project; DROP\"\ndataset: analytics-1.x\ncustomer_property: \"customer ref\"\nstart_date: x\n"), &doc)
	_, err := New(config.Plugin{Name: "export", Kind: "ga4_bigquery", Node: doc.Content[0], File: "u.yaml"}, "UTC")
	for _, want := range []string{"project must be a Google Cloud project id", "dataset must be letters, digits and underscores", "location is required",
		"customer_property must be a user property name", "usage_events is required", "start_date must be a date"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err lacks %q: %v", want, err)
		}
	}
}

// TestDatasetIDsUpToBigQuerysLimit: a dataset id of 1,024 letters is one
// BigQuery accepts; one more is refused before any query.
func TestDatasetIDsUpToBigQuerysLimit(t *testing.T) {
	for _, tc := range []struct {
		n  int
		ok bool
	}{{1, true}, {1024, true}, {1025, false}} {
		var doc yaml.Node
		yaml.Unmarshal([]byte("kind: ga4_bigquery\nproject: acme-analytics\ndataset: "+strings.Repeat("a", tc.n)+
			"\nlocation: EU\ncustomer_property: customer_ref\nusage_events: [page_view]\nstart_date: 2026-01-01\n"), &doc)
		_, err := New(config.Plugin{Name: "export", Kind: "ga4_bigquery", Node: doc.Content[0], File: "u.yaml"}, "UTC")
		if refused := err != nil && strings.Contains(err.Error(), "dataset must be"); refused == tc.ok || (tc.ok && err != nil) {
			t.Errorf("dataset of %d letters: %v", tc.n, err)
		}
	}
}

func TestTheQueryTakesParametersOnly(t *testing.T) {
	var doc yaml.Node
	yaml.Unmarshal([]byte("kind: ga4_bigquery\nproject: acme-analytics\ndataset: analytics_123\nlocation: EU\ncustomer_property: customer_ref\nusage_events: [\"page_view'; --\"]\nstart_date: 2026-01-01\n"), &doc)
	s, err := New(config.Plugin{Name: "export", Kind: "ga4_bigquery", Node: doc.Content[0], File: "u.yaml"}, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	q := s.query()
	// Config values other than the (validated) table reference never reach the SQL text.
	if strings.Contains(q, "page_view") || strings.Contains(q, "customer_ref'") || strings.Contains(q, "Europe/Paris") || !strings.Contains(q, "`acme-analytics.analytics_123.events_*`") {
		t.Errorf("query:\n%s", q)
	}
	for _, p := range []string{"@customer_property", "@usage_events", "@timezone", "@from", "@to", "@from_suffix", "@to_suffix"} {
		if !strings.Contains(q, p) {
			t.Errorf("query lacks %s", p)
		}
	}
}

func fakeSource(t *testing.T, fake *bqfake.Server, extra string) *Source {
	t.Helper()
	var doc yaml.Node
	yaml.Unmarshal([]byte("kind: ga4_bigquery\nproject: acme-analytics\ndataset: analytics_123\nlocation: EU\ncustomer_property: customer_ref\nusage_events: [page_view]\nstart_date: 2026-09-01\n"+extra), &doc)
	s, err := New(config.Plugin{Name: "export", Kind: "ga4_bigquery", Node: doc.Content[0], File: "u.yaml"}, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	s.opts = fake.ClientOptions()
	return s
}

// pushdown answers the GA4 query on the fake (the emulator runs the SQL itself).
func pushdown(sql string) bool { return strings.Contains(sql, "events_*") }

var resultFields = []bqfake.Field{{Name: "day", Type: "DATE"}, {Name: "user_id", Type: "STRING"}, {Name: "customer_ref", Type: "STRING"}, {Name: "event", Type: "STRING"}, {Name: "count", Type: "INTEGER"}}

func TestResultsArePagedAndParametersSent(t *testing.T) {
	fake := bqfake.New(t, "acme-analytics")
	var rows []map[string]any
	for i := 1; i <= 25; i++ {
		rows = append(rows, map[string]any{"day": civil.Date{Year: 2026, Month: 9, Day: 1 + i%20}, "user_id": fmt.Sprintf("u%d", i), "customer_ref": "E1", "event": "page_view", "count": int64(i)})
	}
	fake.AnswerQuery(pushdown, resultFields, rows, 1_000_000)
	s := fakeSource(t, fake, "")
	s.pageSize = 10
	c := duck(t)
	rec := &recorder{next: warehouse.RowWriter{Conn: c}, rows: map[string][][]driver.Value{}}
	ex, err := s.Extract(context.Background(), c, connectors.Run{ID: "r", AsOf: time.Date(2026, 9, 25, 0, 0, 0, 0, time.UTC),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Rows: rec})
	if err != nil {
		t.Fatal(err)
	}
	// What the source handed the engine: every page's rows, in raw_activity's
	// columns (day, customer_ref, user_id, event, count, source), once.
	got := rec.rows["ga4bq_export"]
	if len(got) != 25 || fmt.Sprint(got[0]) != "[2026-09-02 00:00:00 +0000 UTC E1 u1 page_view 1 ga4_bigquery]" {
		t.Errorf("handed %d rows, first %v", len(got), got[:min(1, len(got))])
	}
	var n, total int64
	if err := c.QueryRowContext(context.Background(), `SELECT count(*), sum("count")::BIGINT FROM ga4bq_export`).Scan(&n, &total); err != nil {
		t.Fatal(err)
	}
	if n != 25 || total != 325 || ex.RowsIn["raw_activity"] != 25 {
		t.Errorf("rows %d, sum %d, extracted %+v", n, total, ex.RowsIn)
	}
	var pages, dryRuns int
	var params string
	for _, r := range fake.Requests() {
		if strings.Contains(r.Path, "/queries") && r.Method == "GET" {
			pages++
		}
		if strings.Contains(string(r.Body), `"dryRun":true`) {
			dryRuns++
			params = string(r.Body)
		}
	}
	if pages < 2 || dryRuns != 1 {
		t.Errorf("%d result pages, %d dry runs", pages, dryRuns)
	}
	for _, want := range []string{`"name":"from_suffix"`, `"value":"20260831"`, `"name":"to"`, `"value":"2026-09-24"`, `"name":"timezone"`, `"value":"Europe/Paris"`, `"value":"page_view"`} {
		if !strings.Contains(params, want) {
			t.Errorf("query parameters lack %s:\n%s", want, params)
		}
	}
}

func TestMaxBytesBilledStopsTheQueryAfterTheDryRun(t *testing.T) {
	fake := bqfake.New(t, "acme-analytics")
	fake.AnswerQuery(pushdown, resultFields, nil, 5_000_000_000)
	s := fakeSource(t, fake, "max_bytes_billed: 1000000000\n")
	_, err := extract(s, duck(t), connectors.Run{ID: "r", AsOf: time.Date(2026, 9, 25, 0, 0, 0, 0, time.UTC), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "would scan 5000000000 bytes, above max_bytes_billed = 1000000000") {
		t.Fatalf("err = %v", err)
	}
	for _, r := range fake.Requests() {
		if strings.Contains(string(r.Body), `"query"`) && !strings.Contains(string(r.Body), `"dryRun":true`) {
			t.Errorf("the query ran after its dry run was refused: %s", r.Path)
		}
	}
}

// recorder is a connectors.RowWriter that keeps the rows a source hands
// over, table by table, then appends them as the engine does.
type recorder struct {
	next connectors.RowWriter
	rows map[string][][]driver.Value
}

func (r *recorder) Append(ctx context.Context, table string, rows [][]driver.Value) error {
	r.rows[table] = append(r.rows[table], rows...)
	return r.next.Append(ctx, table, rows)
}

// extract runs s on c with the engine's row writer on c.
func extract(s *Source, c *sql.Conn, run connectors.Run) (connectors.Extracted, error) {
	run.Rows = warehouse.RowWriter{Conn: c}
	return s.Extract(context.Background(), c, run)
}

func duck(t *testing.T) *sql.Conn {
	t.Helper()
	c := sqltest.Conn(t)
	return c
}

// BIGQUERY_EMULATOR_HOST points the source at the emulator, without
// credentials, when no endpoint is set (as it does the bigquery destination).
func TestEmulatorHostVariableServesTheExportSource(t *testing.T) {
	fake := bqfake.New(t, "acme-analytics")
	fake.AnswerQuery(pushdown, resultFields, []map[string]any{
		{"day": civil.Date{Year: 2026, Month: 9, Day: 2}, "user_id": "u1", "customer_ref": "E1", "event": "page_view", "count": int64(3)},
	}, 1000)
	t.Setenv("BIGQUERY_EMULATOR_HOST", strings.TrimPrefix(fake.URL(), "http://"))
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json") // must not be read
	var doc yaml.Node
	yaml.Unmarshal([]byte("kind: ga4_bigquery\nproject: acme-analytics\ndataset: analytics_123\nlocation: EU\ncustomer_property: customer_ref\nusage_events: [page_view]\nstart_date: 2026-09-01\n"), &doc)
	s, err := New(config.Plugin{Name: "export", Kind: "ga4_bigquery", Node: doc.Content[0], File: "u.yaml"}, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := extract(s, duck(t), connectors.Run{ID: "r", AsOf: time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if ex.RowsIn["raw_activity"] != 1 {
		t.Errorf("rows in: %v", ex.RowsIn)
	}
}

// A missing permission (403) and a missing dataset (404) say what to do.
func TestPermissionAndMissingDatasetHints(t *testing.T) {
	for status, want := range map[int]string{
		403: "roles/bigquery.dataViewer) on dataset acme-analytics.analytics_123",
		404: "No dataset acme-analytics.analytics_123 in location EU",
	} {
		fake := bqfake.New(t, "acme-analytics")
		fake.FailNext(func(r bqfake.Request) bool { return strings.HasSuffix(r.Path, "/jobs") }, status, map[int]string{403: "accessDenied", 404: "notFound"}[status], 1)
		s := fakeSource(t, fake, "")
		_, err := extract(s, duck(t), connectors.Run{ID: "r", AsOf: time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%d: err = %v", status, err)
		}
	}
}
