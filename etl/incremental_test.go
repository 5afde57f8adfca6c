package etl_test

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/uptake-dev/uptake/connectors/ga4/ga4fake"
	"github.com/uptake-dev/uptake/etl"
)

// TestIncrementalGA4Pulls runs the kpi fixture with a GA4 source next to the
// platform exports: the watermark moves, days pulled again replace their
// rows, earlier days stay, and --from/--to pull another window.
func TestIncrementalGA4Pulls(t *testing.T) {
	fake := ga4fake.New(t)
	ev := func(date, customer string, count int64) ga4fake.Event {
		return ga4fake.Event{Date: date, Name: "page_view", Dims: map[string]string{"customUser:customer_ref": customer}, Users: []string{"g-" + customer}, Count: count}
	}
	fake.AddEvents("42", ev("20260905", "E1", 3), ev("20260920", "E2", 4))
	w := newWorkspace(t, `
  - name: shop
    kind: ga4
    property_id: "42"
    customer_dimension: customUser:customer_ref
    usage_events: [page_view]
    purchase_event: none
    start_date: 2026-09-01
    lookback_days: 2
    endpoint: `+fake.URL()+`
`)
	runAt := func(asOf time.Time, from, to time.Time) {
		t.Helper()
		if _, err := w.run(etl.Options{AsOf: asOf, From: from, To: to}); err != nil {
			t.Fatal(err)
		}
	}
	query := func(q string) string {
		t.Helper()
		var s sql.NullString
		w.scan(q, &s)
		return s.String
	}
	const pulled = `SELECT string_agg(day::VARCHAR || ' ' || customer_ref || ' ' || count, ', ' ORDER BY day) FROM raw_customer_activity WHERE source = 'ga4_api:shop'`

	// First run (Sep 25): start_date .. Sep 24.
	runAt(date(2026, 9, 25), time.Time{}, time.Time{})
	if got := query(pulled); got != "2026-09-05 E1 3, 2026-09-20 E2 4" {
		t.Errorf("first pull: %s", got)
	}
	if got := query(`SELECT last_day::VARCHAR FROM watermarks WHERE source = 'shop'`); got != "2026-09-24" {
		t.Errorf("watermark = %s", got)
	}
	// GA4 revises Sep 23 (in the lookback) and has a new day; Sep 5 changes
	// too, but lies before the window: it stays as first pulled.
	fake.AddEvents("42", ev("20260923", "E1", 2), ev("20260926", "E2", 1), ev("20260905", "E1", 100))
	runAt(date(2026, 9, 28), time.Time{}, time.Time{}) // window Sep 22 .. Sep 27
	if got := query(pulled); got != "2026-09-05 E1 3, 2026-09-20 E2 4, 2026-09-23 E1 2, 2026-09-26 E2 1" {
		t.Errorf("second pull: %s", got)
	}
	// The same window again: no duplicates.
	runAt(date(2026, 9, 28), time.Time{}, time.Time{})
	if got := query(`SELECT count(*)::VARCHAR FROM raw_customer_activity WHERE source = 'ga4_api:shop'`); got != "4" {
		t.Errorf("rows after a re-run = %s, want 4", got)
	}
	// --from/--to: pull September 5 again (its revision now lands).
	runAt(date(2026, 9, 28), date(2026, 9, 1), date(2026, 9, 10))
	if got := query(pulled); !strings.HasPrefix(got, "2026-09-05 E1 103, 2026-09-20") {
		t.Errorf("after --from/--to: %s", got)
	}
	// The re-pull of older days leaves the watermark where the nightly runs
	// had taken it (Sep 27), not back at --to.
	if got := query(`SELECT last_day::VARCHAR FROM watermarks WHERE source = 'shop'`); got != "2026-09-27" {
		t.Errorf("watermark after --to = %s, want 2026-09-27", got)
	}
}

// TestIncrementalActivityExport: with activity.incremental, a run reads the
// activity files from the watermark's month on and keeps the earlier months
// from the last run; --from reads older files again.
func TestIncrementalActivityExport(t *testing.T) {
	w := newWorkspace(t, "")
	act := w.cfg.Sources[0].Node
	setIncremental(t, act)
	count := func() string {
		t.Helper()
		var n string
		w.scan(`SELECT count(*)::VARCHAR || ' ' || (SELECT last_day::VARCHAR FROM watermarks WHERE source = 'csvexport') FROM raw_activity`, &n)
		return n
	}
	run := func(asOf, from time.Time) {
		t.Helper()
		if _, err := w.run(etl.Options{AsOf: asOf, From: from}); err != nil {
			t.Fatal(err)
		}
	}
	run(date(2026, 9, 20), time.Time{})
	if got := count(); got != "23 2026-09-19" {
		t.Fatalf("first run: %s", got)
	}
	// A late row in July's file and a new one in September's: the next run
	// (window from Sep 17, September's file) sees only September's.
	w.write("activity_2026-07.csv", readFile(t, w.dir+"/input/activity_2026-07.csv")+"2026-07-15,u1,E1,portal_view,1\n")
	w.write("activity_2026-09.csv", readFile(t, w.dir+"/input/activity_2026-09.csv")+"2026-09-20,u2,E1,login,1\n")
	run(date(2026, 9, 21), time.Time{})
	if got := count(); got != "24 2026-09-20" {
		t.Errorf("second run: %s, want 24 rows (July's late row not read)", got)
	}
	run(date(2026, 9, 21), date(2026, 7, 1))
	if got := count(); got != "25 2026-09-20" {
		t.Errorf("with --from 2026-07-01: %s, want 25 rows", got)
	}
}

// setIncremental turns activity: {path: …} into an incremental read.
func setIncremental(t *testing.T, source *yaml.Node) {
	t.Helper()
	for i := 0; i+1 < len(source.Content); i += 2 {
		if source.Content[i].Value == "activity" {
			a := source.Content[i+1]
			a.Content = append(a.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "incremental"}, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
			return
		}
	}
	t.Fatal("no activity block")
}
