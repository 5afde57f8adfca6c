package etl_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors/ga4/ga4fake"
	"github.com/uptake-dev/uptake/etl"
)

// The GA4 fixture of the tests below, property 42, September 2026 (E1, E2
// are customers of testdata/kpi's establishments):
//
//	Sep 1: E1 page_view by u1 and u2 (3 events), E1 add_to_cart by u3 (1), E2 page_view by u4 (1)
//	Sep 2: E1 page_view by u1 (2 events); page_view by u9, who has no customer (1)
//
// GA4's own active users: Sep 1 = 4 (u1..u4), Sep 2 = 1 (u1; u9 has no
// customer), September = 4 (u1..u4: u1 once, although active on two days).
// Stored per event, E1's users on Sep 1 would be 2 (page_view) and 1
// (add_to_cart): the largest, 2, undercounts E1's 3 users.
var ga4Fixture = []ga4Row{
	{"2026-09-01", "page_view", "E1", []string{"u1", "u1", "u2"}, 3, 12},
	{"2026-09-01", "add_to_cart", "E1", []string{"u3"}, 1, 12},
	{"2026-09-01", "page_view", "E2", []string{"u4"}, 1, 12},
	{"2026-09-02", "page_view", "E1", []string{"u1", "u1"}, 2, 12},
	{"2026-09-02", "page_view", "", []string{"u9"}, 1, 12},
}

// ga4Row is one bucket of GA4 events: the Data API's (the property's day)
// and the export's (one line per user, at hourUTC of day, which may be
// past 24: the next UTC day).
type ga4Row struct {
	day, event, customer string
	users                []string // one export line each
	count                int64
	hourUTC              int
}

// ga4Workspace is testdata/kpi's establishments (no users, no platform
// activity), the fixture in the fake Data API (property 42) and, when
// export is set, the same events as export files (a ga4_export_file source
// with that extra config).
func ga4Workspace(t *testing.T, fake *ga4fake.Server, export string, extra ...ga4Row) *workspace {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "input")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range append(append([]ga4Row(nil), ga4Fixture...), extra...) {
		dims := map[string]string{}
		props := "[]"
		if f.customer != "" {
			dims["customUser:customer_ref"] = f.customer
			props = fmt.Sprintf(`[{"key":"customer_ref","value":{"string_value":"%s"}}]`, f.customer)
		}
		day, _ := time.Parse("2006-01-02", f.day)
		fake.AddEvents("42", ga4fake.Event{Date: day.Format("20060102"), Name: f.event, Dims: dims, Users: unique(f.users), Count: f.count})
		at := day.Add(time.Duration(f.hourUTC) * time.Hour).UnixMicro()
		for _, u := range f.users {
			lines = append(lines, fmt.Sprintf(`{"event_timestamp":%d,"event_name":"%s","user_id":"%s","user_pseudo_id":"p-%s","user_properties":%s}`, at, f.event, u, u, props))
		}
	}
	if err := os.WriteFile(filepath.Join(in, "ga4_events.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := `warehouse: ` + filepath.Join(dir, "wh", "warehouse.duckdb") + `
timezone: Europe/Paris
kpi:
  usage_events: [page_view, add_to_cart]
sources:
  - kind: csvexport
    establishments:
      path: ` + filepath.Join("..", "testdata", "kpi", "input") + `/establishments_*.csv
  - name: api
    kind: ga4
    property_id: "42"
    customer_dimension: customUser:customer_ref
    usage_events: [page_view, add_to_cart]
    purchase_event: none
    start_date: 2026-09-01
    endpoint: ` + fake.URL() + `
`
	if export != "" {
		text += `  - name: export
    kind: ga4_export_file
    path: ` + in + `/ga4_events.jsonl
    customer_property: customer_ref
    usage_events: [page_view, add_to_cart]
` + export
	}
	text += `destinations:
  - kind: files
    path: ` + filepath.Join(dir, "out") + "\n"
	abs, err := filepath.Abs(filepath.Join("..", "testdata", "kpi", "input"))
	if err != nil {
		t.Fatal(err)
	}
	text = strings.ReplaceAll(text, filepath.Join("..", "testdata", "kpi", "input"), abs)
	w := &workspace{t: t, dir: dir}
	w.parse(text)
	return w
}

func unique(users []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, u := range users {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// With the Data API as the only activity source, DAU, MAU and DAU/MAU are
// GA4's own figures:
//
//	kpi_daily: Sep 1 dau 4, Sep 2 dau 1 (rolling wau/mau: NULL, GA4 is not asked for them).
//	September: mau 4 (not 4 + 1 = 5 summed over days), avg_dau = (4 + 1) / 30 days = 0.1667,
//	dau_mau = 0.1667 / 4 = 0.0417. July and August: no activity, 0 and NULL as before.
func TestAPIOnlyDAUAndMAUAreGA4s(t *testing.T) {
	fake := ga4fake.New(t)
	w := ga4Workspace(t, fake, "")
	if _, err := w.run(etl.Options{AsOf: date(2026, 10, 1)}); err != nil {
		t.Fatal(err)
	}
	got := w.cells(`SELECT strftime(day, '%m-%d'), dau, coalesce(wau::VARCHAR, 'NULL'), coalesce(mau::VARCHAR, 'NULL'), coalesce(dau_mau::VARCHAR, 'NULL') FROM kpi_daily ORDER BY day`)
	if strings.Join(got, ", ") != "09-01 4 NULL NULL NULL, 09-02 1 NULL NULL NULL" {
		t.Errorf("kpi_daily: %v", got)
	}
	got = w.cells(`SELECT strftime(month, '%m'), mau, round(avg_dau, 4)::DOUBLE::VARCHAR, coalesce(round(dau_mau, 4)::DOUBLE::VARCHAR, 'NULL') FROM kpi_overview_monthly ORDER BY month`)
	if strings.Join(got, ", ") != "07 0 0.0 NULL, 08 0 0.0 NULL, 09 4 0.1667 0.0417" {
		t.Errorf("kpi_overview_monthly: %v", got)
	}
	// The customer-day figures are kept: E1 had 3 users on Sep 1.
	got = w.cells(`SELECT customer_ref, active_users FROM raw_active_users WHERE period = 'day' AND day = DATE '2026-09-01' AND customer_ref IS NOT NULL ORDER BY 1`)
	if strings.Join(got, ", ") != "E1 3, E2 1" {
		t.Errorf("customer-days: %v", got)
	}
}

// The export of the same property, pulled for reconcile only, stays out of
// every KPI (raw_activity stays empty, so DAU and MAU are still GA4's, not
// doubled), and reconcile finds that the two agree: Sep 1 5 events and 4
// users on both sides (E1's 3 users counted once, not 2 as the largest
// per-event figure), Sep 2 2 events and 1 user (u9 has no customer).
func TestReconcileOnlyExportStaysOutOfTheKPIs(t *testing.T) {
	fake := ga4fake.New(t)
	w := ga4Workspace(t, fake, "    use: reconcile\n")
	if _, err := w.run(etl.Options{AsOf: date(2026, 10, 1)}); err != nil {
		t.Fatal(err)
	}
	got := w.cells(`SELECT (SELECT count(*) FROM raw_activity), (SELECT sum(count) FROM raw_reconcile_activity),
		(SELECT string_agg(dau::VARCHAR, ' ' ORDER BY day) FROM kpi_daily), (SELECT mau FROM kpi_overview_monthly WHERE month = DATE '2026-09-01')`)
	if strings.Join(got, " ") != "0 8 4 1 4" {
		t.Errorf("raw_activity rows, reconcile rows' events, dau, September mau: %v", got)
	}
	days, err := etl.Reconcile(context.Background(), w.cfg, date(2026, 9, 1), date(2026, 9, 2), 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := reconciled(days); got != "09-01 5/5 4/4 false; 09-02 2/2 1/1 false" {
		t.Errorf("reconcile: %s", got)
	}
}

// The property counts its days in New York, uptake in Paris: an event at
// 02:00 UTC on Sep 2 is Sep 1 for the Data API, Sep 2 for the export. The
// days it moves are flagged, and reconcile names the time zones as the
// likely cause.
func TestReconcileNamesThePropertysTimeZone(t *testing.T) {
	fake := ga4fake.New(t)
	fake.SetTimeZone("42", "America/New_York")
	w := ga4Workspace(t, fake, "    use: reconcile\n", ga4Row{"2026-09-01", "page_view", "E2", []string{"u5"}, 1, 26}) // 02:00 UTC on Sep 2
	if _, err := w.run(etl.Options{AsOf: date(2026, 10, 1)}); err != nil {
		t.Fatal(err)
	}
	days, err := etl.Reconcile(context.Background(), w.cfg, date(2026, 9, 1), date(2026, 9, 2), 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := reconciled(days); got != "09-01 6/5 5/4 true; 09-02 2/3 1/2 true" {
		t.Errorf("reconcile: %s", got)
	}
	for _, d := range days {
		if !strings.Contains(d.Cause, "the GA4 property counts its days in America/New_York, uptake in Europe/Paris (timezone)") {
			t.Errorf("%s: cause %q", d.Day.Format("01-02"), d.Cause)
		}
	}
}

func reconciled(days []etl.ReconcileDay) string {
	var out []string
	for _, d := range days {
		out = append(out, fmt.Sprintf("%s %d/%d %d/%d %v", d.Day.Format("01-02"), d.APIEvents, d.ExportEvents, d.APIUsers, d.ExportUsers, d.OverThreshold))
	}
	return strings.Join(out, "; ")
}
