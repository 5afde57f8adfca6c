package etl_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors/ga4/ga4fake"
	"github.com/uptake-dev/uptake/etl"
)

// What GA4 says of its numbers becomes source_quality, per day, and
// warnings. The property reports in New York time, thresholds, samples 250
// of 1,000 events, and keeps one row before "(other)": of E1's 3 views on
// Sep 5 and E2's 4 on Sep 20, E1's 3 fall into "(other)".
func TestSourceQuality(t *testing.T) {
	fake := ga4fake.New(t)
	ev := func(date, customer string, count int64) ga4fake.Event {
		return ga4fake.Event{Date: date, Name: "page_view", Dims: map[string]string{"customUser:customer_ref": customer}, Users: []string{"g-" + customer}, Count: count}
	}
	fake.AddEvents("42", ev("20260905", "E1", 3), ev("20260920", "E2", 4))
	fake.SetThresholded("42", true)
	fake.SetSampled("42", 250, 1000)
	fake.SetRowLimitBeforeOther("42", 1)
	fake.SetTimeZone("42", "America/New_York")
	w := newWorkspace(t, `
  - name: shop
    kind: ga4
    property_id: "42"
    customer_dimension: customUser:customer_ref
    usage_events: [page_view]
    purchase_event: none
    start_date: 2026-09-01
    endpoint: `+fake.URL()+`
timezone: Europe/Paris
`)
	// Sep 25: the window is Sep 1 .. Sep 24, one report: 24 days.
	res, err := w.run(etl.Options{AsOf: date(2026, 9, 25)})
	if err != nil {
		t.Fatal(err)
	}
	warnings := strings.Join(res.Warnings, "\n")
	for _, want := range []string{
		`ga4 shop: 3 usage events fell into GA4's "(other)" row`,
		"ga4 shop: GA4 thresholded the usage events report",
		"ga4 shop: GA4 sampled the usage events report: 250 of 1000 events read (25.0 %); counts are estimates",
		"ga4 shop: the property counts days in America/New_York, the config in Europe/Paris",
	} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q:\n%s", want, warnings)
		}
	}
	const q = `SELECT count(*), min(day), max(day), bool_and(subject_to_thresholding), bool_and(data_loss_from_other_row),
		max(other_row_count), bool_and(sampled), max(samples_read), max(sampling_space), any_value(property_time_zone)
		FROM source_quality WHERE %s`
	got := w.cells(strings.Replace(q, "%s", "report = 'usage events'", 1))
	if strings.Join(got, "") != "24 2026-09-01 00:00:00 +0000 UTC 2026-09-24 00:00:00 +0000 UTC true true 3 true 250 1000 America/New_York" {
		t.Errorf("source_quality: %v", got)
	}
	// The active-user reports (per customer-day, day, month) share one row a
	// day: thresholded and sampled alike; the day report's E2 fell into
	// "(other)" (1 user), the customer-day report's E1 (1 user): 2.
	got = w.cells(strings.Replace(q, "%s", "report = 'active users'", 1))
	if strings.Join(got, "") != "24 2026-09-01 00:00:00 +0000 UTC 2026-09-24 00:00:00 +0000 UTC true true 2 true 250 1000 America/New_York" {
		t.Errorf("source_quality of the active users: %v", got)
	}

	// Sep 28, GA4 no longer thresholds nor samples: the window (Sep 21 ..
	// Sep 27, 3 days of lookback) is pulled again and its days replaced;
	// Sep 1 .. 20 keep what GA4 said then.
	fake.SetThresholded("42", false)
	fake.SetSampled("42", 0, 0)
	if _, err := w.run(etl.Options{AsOf: date(2026, 9, 28)}); err != nil {
		t.Fatal(err)
	}
	got = w.cells(`SELECT count(*), count(*) FILTER (WHERE subject_to_thresholding), count(*) FILTER (WHERE sampled),
		min(day) FILTER (WHERE NOT sampled) FROM source_quality WHERE report = 'usage events'`)
	if strings.Join(got, "") != "27 20 20 2026-09-21 00:00:00 +0000 UTC" {
		t.Errorf("after the second run: %v", got)
	}
}

// Two GA4 properties, each its own source: their rows carry their own tags
// and each run keeps each source's earlier days once (a shared tag once
// made them copy each other's history at every run). Shop has 3 views on
// Sep 5, portal 4 on Sep 6; after three runs there are still 7 views, and one
// quality row per source and day (24, then 27, then 29 days).
func TestTwoGA4Sources(t *testing.T) {
	fake := ga4fake.New(t)
	ev := func(date string, count int64) ga4fake.Event {
		return ga4fake.Event{Date: date, Name: "page_view", Dims: map[string]string{"customUser:customer_ref": "E1"}, Users: []string{"g"}, Count: count}
	}
	fake.AddEvents("42", ev("20260905", 3))
	fake.AddEvents("43", ev("20260906", 4))
	src := func(name, property string) string {
		return `
  - name: ` + name + `
    kind: ga4
    property_id: "` + property + `"
    customer_dimension: customUser:customer_ref
    usage_events: [page_view]
    purchase_event: none
    start_date: 2026-09-01
    endpoint: ` + fake.URL()
	}
	w := newWorkspace(t, src("shop", "42")+src("portal", "43")+"\n")
	for _, asOf := range []time.Time{date(2026, 9, 25), date(2026, 9, 28), date(2026, 9, 30)} {
		if _, err := w.run(etl.Options{AsOf: asOf}); err != nil {
			t.Fatal(err)
		}
	}
	got := w.cells(`SELECT source, sum(count) FROM raw_customer_activity GROUP BY ALL ORDER BY ALL`)
	if strings.Join(got, ", ") != "ga4_api:portal 4, ga4_api:shop 3" {
		t.Errorf("activity by source: %v", got)
	}
	got = w.cells(`SELECT source_name, count(*), count(DISTINCT day) FROM source_quality WHERE report = 'usage events' GROUP BY ALL ORDER BY ALL`)
	if strings.Join(got, ", ") != "portal 29 29, shop 29 29" {
		t.Errorf("quality rows by source: %v", got)
	}
}

// A warehouse from an older uptake tagged GA4 Data API rows 'ga4_api' for
// every source. With one GA4 source, its earlier days outside the window
// are carried over under the source's own tag, not lost.
func TestLegacyGA4RowsCarriedOver(t *testing.T) {
	fake := ga4fake.New(t)
	fake.AddEvents("42", ga4fake.Event{Date: "20260905", Name: "page_view", Dims: map[string]string{"customUser:customer_ref": "E1"}, Users: []string{"g"}, Count: 3})
	w := newWorkspace(t, `
  - name: shop
    kind: ga4
    property_id: "42"
    customer_dimension: customUser:customer_ref
    usage_events: [page_view]
    purchase_event: none
    start_date: 2026-09-01
    endpoint: `+fake.URL()+`
`)
	if _, err := w.run(etl.Options{AsOf: date(2026, 9, 25)}); err != nil {
		t.Fatal(err)
	}
	// As an older uptake would have left them: the live tables' GA4 rows tagged 'ga4_api'.
	db, err := sql.Open("duckdb", w.cfg.Warehouse)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"raw_customer_activity", "raw_source_quality"} {
		var live string
		if err := db.QueryRow(`SELECT value FROM main.state WHERE key = 'live_schema'`).Scan(&live); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(fmt.Sprintf(`UPDATE %s.%s SET source = 'ga4_api'`, live, table)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	// Sep 28: the window is Sep 21 .. 27; Sep 5 is carried over, retagged.
	if _, err := w.run(etl.Options{AsOf: date(2026, 9, 28)}); err != nil {
		t.Fatal(err)
	}
	got := w.cells(`SELECT source, strftime(day, '%m-%d'), count FROM raw_customer_activity ORDER BY ALL`)
	if strings.Join(got, ", ") != "ga4_api:shop 09-05 3" {
		t.Errorf("after the upgrade: %v", got)
	}
	if got := w.cells(`SELECT count(*), count(DISTINCT day) FROM raw_source_quality WHERE source = 'ga4_api:shop' AND report = 'usage events'`); strings.Join(got, "") != "27 27" {
		t.Errorf("quality rows after the upgrade: %v", got)
	}
}
