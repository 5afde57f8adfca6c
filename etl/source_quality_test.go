package etl_test

import (
	"context"
	"strings"
	"testing"

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
	res, err := etl.Run(context.Background(), etl.Options{Config: w.cfg, AsOf: date(2026, 9, 25), Logger: discard()})
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
	got := queryCells(t, w.cfg, strings.Replace(q, "%s", "true", 1))
	if strings.Join(got, "") != "24 2026-09-01 00:00:00 +0000 UTC 2026-09-24 00:00:00 +0000 UTC true true 3 true 250 1000 America/New_York" {
		t.Errorf("source_quality: %v", got)
	}

	// Sep 28, GA4 no longer thresholds nor samples: the window (Sep 21 ..
	// Sep 27, 3 days of lookback) is pulled again and its days replaced;
	// Sep 1 .. 20 keep what GA4 said then.
	fake.SetThresholded("42", false)
	fake.SetSampled("42", 0, 0)
	if _, err := etl.Run(context.Background(), etl.Options{Config: w.cfg, AsOf: date(2026, 9, 28), Logger: discard()}); err != nil {
		t.Fatal(err)
	}
	got = queryCells(t, w.cfg, `SELECT count(*), count(*) FILTER (WHERE subject_to_thresholding), count(*) FILTER (WHERE sampled),
		min(day) FILTER (WHERE NOT sampled) FROM source_quality`)
	if strings.Join(got, "") != "27 20 20 2026-09-21 00:00:00 +0000 UTC" {
		t.Errorf("after the second run: %v", got)
	}
}

// Two GA4 Data API sources would tag their rows alike and be copied into
// each other's history at every run: the run refuses them, naming both.
func TestTwoSourcesSharingATagAreRefused(t *testing.T) {
	fake := ga4fake.New(t)
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
	ev := ga4fake.Event{Date: "20260905", Name: "page_view", Dims: map[string]string{"customUser:customer_ref": "E1"}, Users: []string{"g"}, Count: 1}
	fake.AddEvents("42", ev)
	fake.AddEvents("43", ev)
	w := newWorkspace(t, src("shop", "42")+src("portal", "43")+"\n")
	_, err := etl.Run(context.Background(), etl.Options{Config: w.cfg, AsOf: date(2026, 9, 25), Logger: discard()})
	if err == nil || !strings.Contains(err.Error(), `sources shop and portal both load raw_customer_activity rows tagged "ga4_api"`) {
		t.Fatalf("err = %v", err)
	}
}
