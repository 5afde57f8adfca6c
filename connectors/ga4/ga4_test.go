package ga4

// The ga4 source, with the real client google.golang.org/api/analyticsdata/v1beta
// talking over HTTP to ga4fake, an in-process fake of runReport.

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/connectors/ga4/ga4fake"
	"github.com/uptake-dev/uptake/etl/warehouse"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

func newGA4(t *testing.T, fake *ga4fake.Server, extra string) *Source {
	t.Helper()
	var doc yaml.Node
	text := "kind: ga4\nname: shop\nproperty_id: \"123\"\ncustomer_dimension: customUser:customer_ref\nusage_events: [page_view, add_to_cart]\nstart_date: 2026-09-01\n" + extra
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	s, err := New(config.Plugin{Name: "shop", Kind: "ga4", Node: doc.Content[0], File: "uptake.yaml"}, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	s.opts = fake.ClientOptions()
	s.backoff = backoff.Policy{Base: time.Millisecond, Max: 4 * time.Millisecond, Attempts: 4}
	return s
}

func conn(t *testing.T) *sql.Conn {
	t.Helper()
	c := sqltest.Conn(t)
	return c
}

func run(asOf time.Time) connectors.Run {
	return connectors.Run{ID: "r1", AsOf: asOf, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// extract runs s on c as of asOf, with the engine's row writer on c.
func extract(s *Source, c *sql.Conn, asOf time.Time) (connectors.Extracted, error) {
	r := run(asOf)
	r.Rows = warehouse.RowWriter{Conn: c}
	return s.Extract(context.Background(), c, r)
}

func rows(t *testing.T, c *sql.Conn, q string) []string {
	t.Helper()
	r, err := c.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cols, _ := r.Columns()
	var out []string
	for r.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			parts = append(parts, v.String)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func shopEvents(fake *ga4fake.Server) {
	fake.AddEvents("123",
		ga4fake.Event{Date: "20260901", Name: "page_view", Dims: map[string]string{"customUser:customer_ref": "E1"}, Users: []string{"u1", "u2"}, Count: 5},
		ga4fake.Event{Date: "20260901", Name: "page_view", Dims: map[string]string{"customUser:customer_ref": "E2"}, Users: []string{"u3"}, Count: 2},
		ga4fake.Event{Date: "20260901", Name: "session_start", Dims: map[string]string{"customUser:customer_ref": "E1"}, Users: []string{"u1"}, Count: 9},
		ga4fake.Event{Date: "20260902", Name: "add_to_cart", Dims: map[string]string{"customUser:customer_ref": "E1"}, Users: []string{"u1"}, Count: 1},
		ga4fake.Event{Date: "20260902", Name: "page_view", Users: []string{"anon"}, Count: 4},
		ga4fake.Event{Date: "20260903", Name: "page_view", Dims: map[string]string{"customUser:customer_ref": "E1"}, Users: []string{"u1"}, Count: 7}, // today: not pulled
		ga4fake.Event{Date: "20260902", Name: "purchase", Dims: map[string]string{"customUser:customer_ref": "E1", "transactionId": "T1"}, Users: []string{"u1"}, Count: 1, Revenue: 120.5},
	)
}

func TestPullsUsageEventsPerCustomerUpToYesterday(t *testing.T) {
	fake := ga4fake.New(t)
	shopEvents(fake)
	s := newGA4(t, fake, "")
	c := conn(t)
	ex, err := extract(s, c, time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	// session_start is not a usage event; Sep 3 is today; the anonymous views have no customer.
	got := rows(t, c, `SELECT day::VARCHAR, customer_ref, event, count, users, source FROM ga4_shop_activity ORDER BY 1, 2, 3`)
	want := []string{"2026-09-01|E1|page_view|5|2|ga4_api:shop", "2026-09-01|E2|page_view|2|1|ga4_api:shop", "2026-09-02|E1|add_to_cart|1|1|ga4_api:shop"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("activity:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ex.RowsIn["raw_customer_activity"] != 3 || ex.Relations["raw_customer_activity"][0] != "ga4_shop_activity" {
		t.Errorf("extracted %+v", ex)
	}
	if !strings.Contains(strings.Join(ex.Warnings, "\n"), "4 usage events had no customUser:customer_ref") {
		t.Errorf("warnings = %v", ex.Warnings)
	}
	if got := rows(t, c, `SELECT order_id, customer_ref, day::VARCHAR, channel, revenue::VARCHAR FROM ga4_shop_orders`); strings.Join(got, ",") != "T1|E1|2026-09-02|web|120.50" {
		t.Errorf("orders = %v", got)
	}
	// What was asked: the window, the dimensions, the usage events, the quota.
	var req struct {
		DateRanges      []struct{ StartDate, EndDate string }
		Dimensions      []struct{ Name string }
		DimensionFilter struct {
			Filter struct {
				FieldName    string
				InListFilter struct{ Values []string }
			}
		}
		ReturnPropertyQuota bool
	}
	if err := json.Unmarshal(fake.Requests()[0].Body, &req); err != nil {
		t.Fatal(err)
	}
	if req.DateRanges[0].StartDate != "2026-09-01" || req.DateRanges[0].EndDate != "2026-09-02" || len(req.Dimensions) != 3 ||
		req.Dimensions[2].Name != "customUser:customer_ref" || strings.Join(req.DimensionFilter.Filter.InListFilter.Values, ",") != "page_view,add_to_cart" || !req.ReturnPropertyQuota {
		t.Errorf("request = %+v", req)
	}
}

func TestReadsEveryPage(t *testing.T) {
	fake := ga4fake.New(t)
	for d := 1; d <= 25; d++ {
		fake.AddEvents("123", ga4fake.Event{Date: time.Date(2026, 9, d, 0, 0, 0, 0, time.UTC).Format("20060102"), Name: "page_view",
			Dims: map[string]string{"customUser:customer_ref": "E1"}, Users: []string{"u1"}, Count: int64(d)})
	}
	s := newGA4(t, fake, "purchase_event: none\n")
	s.pageSize = 10
	c := conn(t)
	if _, err := extract(s, c, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, c, `SELECT count(*), sum("count")::BIGINT FROM ga4_shop_activity`); got[0] != "25|325" {
		t.Errorf("rows = %v", got)
	}
	events := 0
	for _, r := range fake.Requests() {
		if strings.Contains(string(r.Body), `{"name":"eventName"}`) {
			events++
		}
	}
	if events != 3 {
		t.Errorf("%d requests for the events report, want 3 pages of 10", events)
	}
}

func TestOtherRowsAndThresholdingAreReported(t *testing.T) {
	fake := ga4fake.New(t)
	shopEvents(fake)
	fake.SetRowLimitBeforeOther("123", 1)
	fake.SetThresholded("123", true)
	fake.SetTimeZone("123", "America/New_York")
	s := newGA4(t, fake, "purchase_event: none\n")
	ex, err := extract(s, conn(t), time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(ex.Warnings, "\n")
	for _, want := range []string{`fell into GA4's "(other)" row`, "thresholded", "the property counts days in America/New_York, the config in Europe/Paris"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
}

func TestStopsBeforeTheDailyQuotaIsGone(t *testing.T) {
	fake := ga4fake.New(t)
	for d := 1; d <= 5; d++ {
		fake.AddEvents("123", ga4fake.Event{Date: time.Date(2026, 9, d, 0, 0, 0, 0, time.UTC).Format("20060102"), Name: "page_view",
			Dims: map[string]string{"customUser:customer_ref": "E1"}, Users: []string{"u1"}, Count: 1})
	}
	fake.SetTokens("123", 10, 25)
	s := newGA4(t, fake, "purchase_event: none\nmin_daily_tokens: 10\n")
	s.pageSize = 1
	_, err := extract(s, conn(t), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	if err == nil || !strings.Contains(err.Error(), "tokens left today (below min_daily_tokens = 10): stopping before the daily quota is gone") {
		t.Fatalf("err = %v", err)
	}
}

func TestRateLimitsAreRetriedButNotAnExhaustedDay(t *testing.T) {
	fake := ga4fake.New(t)
	shopEvents(fake)
	fake.FailNext(nil, http.StatusTooManyRequests, 1)
	s := newGA4(t, fake, "purchase_event: none\n")
	if _, err := extract(s, conn(t), time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("a 429 was not retried: %v", err)
	}
	fake.SetTokens("123", 10, 5) // the day's tokens are already gone
	_, err := extract(s, conn(t), time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC))
	if err == nil || !strings.Contains(err.Error(), "quota of property 123 is used up") {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigProblems(t *testing.T) {
	var doc yaml.Node
	yaml.Unmarshal([]byte("kind: ga4\nproperty_id: G-123\ncustomer_dimension: customer_ref\nusage_events: [session_start]\nstart_date: soon\n"), &doc)
	_, err := New(config.Plugin{Name: "ga4", Kind: "ga4", Node: doc.Content[0], File: "u.yaml"}, "UTC")
	for _, want := range []string{"property_id must be the property's number", "customer_dimension must be a custom dimension", "session_start and first_visit alone", "start_date must be a date"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err lacks %q: %v", want, err)
		}
	}
}

// GA4's active users, asked for each grain on its own (no eventName):
//
//	Sep 1: u1 views and adds to cart for E1, u2 views for E1, u3 views for E2;
//	       per event E1 has 2 viewers and 1 adder, but 2 users (u1, u2), not 3.
//	Sep 2: u1 views for E1; u9 has no customer; u8 views for X (excluded).
//	Customer-days: 09-01 E1 2, 09-01 E2 1, 09-02 E1 1, 09-02 X 1 (sql/ drops X).
//	Days (customers known, X excluded): 09-01 3 (u1, u2, u3), 09-02 1 (u1).
//	Month: 3 (u1, u2, u3): the month's distinct users, not 3 + 1 summed over days.
//
// The watermark (Sep 10, lookback 3) starts the events on Sep 7, the users on
// Sep 1: a month's figure always covers the month.
func TestActiveUsersPerCustomerDayDayAndMonth(t *testing.T) {
	fake := ga4fake.New(t)
	cust := func(c string) map[string]string { return map[string]string{"customUser:customer_ref": c} }
	fake.AddEvents("123",
		ga4fake.Event{Date: "20260901", Name: "page_view", Dims: cust("E1"), Users: []string{"u1", "u2"}, Count: 3},
		ga4fake.Event{Date: "20260901", Name: "add_to_cart", Dims: cust("E1"), Users: []string{"u1"}, Count: 1},
		ga4fake.Event{Date: "20260901", Name: "page_view", Dims: cust("E2"), Users: []string{"u3"}, Count: 1},
		ga4fake.Event{Date: "20260902", Name: "page_view", Dims: cust("E1"), Users: []string{"u1"}, Count: 1},
		ga4fake.Event{Date: "20260902", Name: "page_view", Users: []string{"u9"}, Count: 1},
		ga4fake.Event{Date: "20260902", Name: "page_view", Dims: cust("X"), Users: []string{"u8"}, Count: 1},
		ga4fake.Event{Date: "20260902", Name: "session_start", Dims: cust("E1"), Users: []string{"u7"}, Count: 1})
	s := newGA4(t, fake, "purchase_event: none\n")
	s.excluded = []string{"X"}
	c := conn(t)
	r := run(time.Date(2026, 9, 12, 0, 0, 0, 0, time.UTC))
	r.Rows = warehouse.RowWriter{Conn: c}
	r.Watermarks = map[string]time.Time{"shop": time.Date(2026, 9, 10, 0, 0, 0, 0, time.UTC)}
	ex, err := s.Extract(context.Background(), c, r)
	if err != nil {
		t.Fatal(err)
	}
	got := rows(t, c, `SELECT period, day::VARCHAR, coalesce(customer_ref, '*'), active_users, source FROM ga4_shop_users ORDER BY 1, 2, 3`)
	want := []string{
		"day|2026-09-01|*|3|ga4_api:shop", "day|2026-09-01|E1|2|ga4_api:shop", "day|2026-09-01|E2|1|ga4_api:shop",
		"day|2026-09-02|*|1|ga4_api:shop", "day|2026-09-02|E1|1|ga4_api:shop", "day|2026-09-02|X|1|ga4_api:shop",
		"month|2026-09-01|*|3|ga4_api:shop",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("users:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	windows := map[string]string{}
	for _, w := range ex.Windows {
		windows[w.Table] = w.From.Format("01-02") + ".." + w.To.Format("01-02")
	}
	if windows["raw_active_users"] != "09-01..09-11" || windows["raw_customer_activity"] != "09-07..09-11" || ex.Relations["raw_active_users"][0] != "ga4_shop_users" {
		t.Errorf("windows %v, relations %v", windows, ex.Relations)
	}
	// The users reports: no eventName dimension, usage events only; the day and
	// month reports keep users of known, not excluded, customers.
	var bodies []string
	for _, q := range fake.Requests() {
		if b := string(q.Body); !strings.Contains(b, `{"name":"eventName"}`) {
			bodies = append(bodies, b)
		}
	}
	if len(bodies) != 3 || !strings.Contains(bodies[2], `"dimensions":[{"name":"yearMonth"}]`) || !strings.Contains(bodies[2], `"startDate":"2026-09-01"`) ||
		!strings.Contains(bodies[1], `"notExpression":{"filter":{"fieldName":"customUser:customer_ref","inListFilter":{"caseSensitive":true,"values":["(not set)","X"]}}}`) {
		t.Errorf("users requests:\n%s", strings.Join(bodies, "\n"))
	}
}

// A source pulled for reconcile only loads the raw_reconcile_ twins (no KPI
// reads them) and no purchases; what GA4 said of its numbers stays published.
func TestReconcileOnlySourceLoadsTheTwins(t *testing.T) {
	fake := ga4fake.New(t)
	shopEvents(fake)
	s := newGA4(t, fake, "use: reconcile\n")
	ex, err := extract(s, conn(t), time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for table := range ex.Relations {
		tables = append(tables, table)
	}
	sort.Strings(tables)
	if strings.Join(tables, ",") != "raw_reconcile_active_users,raw_reconcile_customer_activity,raw_source_quality" {
		t.Errorf("tables = %v", tables)
	}
	for _, w := range ex.Windows {
		if _, ok := ex.Relations[w.Table]; !ok {
			t.Errorf("window of %s without its rows", w.Table)
		}
	}
	if u := s.GA4Use(); u.KPI || u.Property != "123" || u.Key != "property_id" {
		t.Errorf("use = %+v", u)
	}
}

// dataLossFromOtherRow is a warning whenever GA4 sets it, even when no
// "(other)" row holds events in the report.
func TestDataLossFromOtherRowIsAlwaysAWarning(t *testing.T) {
	fake := ga4fake.New(t)
	shopEvents(fake)
	fake.SetDataLossFromOtherRow("123", true)
	s := newGA4(t, fake, "purchase_event: none\n")
	ex, err := extract(s, conn(t), time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(ex.Warnings, "\n")
	for _, report := range []string{"usage events", "active users"} {
		if !strings.Contains(w, "GA4 set dataLossFromOtherRow on the "+report+" report") {
			t.Errorf("no warning for the %s report:\n%s", report, w)
		}
	}
}

func TestUseMustBeKPIOrReconcile(t *testing.T) {
	var doc yaml.Node
	yaml.Unmarshal([]byte("kind: ga4\nproperty_id: \"1\"\ncustomer_dimension: customUser:c\nusage_events: [page_view]\nstart_date: 2026-01-01\nuse: both\n"), &doc)
	_, err := New(config.Plugin{Name: "ga4", Kind: "ga4", Node: doc.Content[0], File: "u.yaml"}, "UTC")
	if err == nil || !strings.Contains(err.Error(), `u.yaml:6: ga4 "ga4": use must be kpi (the default: the rows feed the KPIs) or reconcile`) {
		t.Errorf("err = %v", err)
	}
}

// Refused credentials (401), an unknown property (404) and a missing
// permission (403) each say what to do.
func TestAuthErrorsGetAHint(t *testing.T) {
	for status, want := range map[int]string{
		http.StatusUnauthorized: "credentials were refused (401)",
		http.StatusNotFound:     "No GA4 property 123: check property_id",
		http.StatusForbidden:    "Add the service account as a Viewer of GA4 property 123",
	} {
		fake := ga4fake.New(t)
		shopEvents(fake)
		fake.FailNext(nil, status, 1)
		s := newGA4(t, fake, "purchase_event: none\n")
		_, err := extract(s, conn(t), time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%d: err = %v, want %q", status, err, want)
		}
	}
}
