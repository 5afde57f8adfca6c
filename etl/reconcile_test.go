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

// The same property seen by the Data API and by its export:
//
//	Sep 5, E1: the API counts 3 page views by 2 users; the export has u1 twice and u2 once → 3
//	events, 2 users: the same.
//	Sep 6, E2: the API counts 4 views by 1 user; the export has u3's 2 views (and a view
//	without a customer, which the API cannot count: left out) → events 4 vs 2 = 50 %; users 1 vs 1.
//	Sep 7: nothing on either side → 0 %.
func TestReconcile(t *testing.T) {
	fake := ga4fake.New(t)
	fake.AddEvents("42",
		ga4fake.Event{Date: "20260905", Name: "page_view", Dims: map[string]string{"customUser:customer_ref": "E1"}, Users: []string{"u1", "u2"}, Count: 3},
		ga4fake.Event{Date: "20260906", Name: "page_view", Dims: map[string]string{"customUser:customer_ref": "E2"}, Users: []string{"u3"}, Count: 4})
	dir := t.TempDir()
	at := func(day string, hour int) int64 {
		d, _ := time.ParseInLocation("2006-01-02", day, time.UTC)
		return d.Add(time.Duration(hour) * time.Hour).UnixMicro() // noon UTC: the same day in Paris
	}
	line := func(day, user, customer string) string {
		props := "[]"
		if customer != "" {
			props = fmt.Sprintf(`[{"key":"customer_ref","value":{"string_value":"%s"}}]`, customer)
		}
		return fmt.Sprintf(`{"event_date":"%s","event_timestamp":%d,"event_name":"page_view","user_id":"%s","user_pseudo_id":"p-%s","user_properties":%s}`,
			strings.ReplaceAll(day, "-", ""), at(day, 12), user, user, props)
	}
	jsonl := strings.Join([]string{
		line("2026-09-05", "u1", "E1"), line("2026-09-05", "u1", "E1"), line("2026-09-05", "u2", "E1"),
		line("2026-09-06", "u3", "E2"), line("2026-09-06", "u3", "E2"), line("2026-09-06", "u9", ""),
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "ga4_events_2026-09.jsonl"), []byte(jsonl), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWorkspace(t, `
  - name: api
    kind: ga4
    property_id: "42"
    customer_dimension: customUser:customer_ref
    usage_events: [page_view]
    purchase_event: none
    start_date: 2026-09-01
    endpoint: `+fake.URL()+`
  - name: export
    kind: ga4_export_file
    path: `+dir+`/ga4_events_*.jsonl
    customer_property: customer_ref
    usage_events: [page_view]
    use: reconcile
timezone: Europe/Paris
`)
	if _, err := w.run(etl.Options{AsOf: date(2026, 9, 8)}); err != nil {
		t.Fatal(err)
	}
	days, err := etl.Reconcile(context.Background(), w.cfg, date(2026, 9, 5), date(2026, 9, 7), 5)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range days {
		got = append(got, fmt.Sprintf("%s %d/%d %.2f %d/%d %.2f %v", d.Day.Format("01-02"), d.APIEvents, d.ExportEvents, d.EventsDiff,
			d.APIUsers, d.ExportUsers, d.UsersDiff, d.OverThreshold))
	}
	want := []string{"09-05 3/3 0.00 2/2 0.00 false", "09-06 4/2 0.50 1/1 0.00 true", "09-07 0/0 0.00 0/0 0.00 false"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Without an export source there is nothing to compare, and it says so.
	plain := newWorkspace(t, "")
	if _, err := plain.run(etl.Options{AsOf: date(2026, 10, 15)}); err != nil {
		t.Fatal(err)
	}
	if _, err := etl.Reconcile(context.Background(), plain.cfg, date(2026, 9, 1), date(2026, 9, 30), 5); err == nil ||
		!strings.Contains(err.Error(), "the warehouse has 0 rows from the GA4 Data API (kind ga4) and 0 from the GA4 export") {
		t.Errorf("err = %v", err)
	}
}
