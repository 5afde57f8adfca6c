package ga4fake_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	analyticsdata "google.golang.org/api/analyticsdata/v1beta"
	"google.golang.org/api/googleapi"

	"github.com/uptake-dev/uptake/connectors/ga4/ga4fake"
)

const prop = "123456"

func setup(t *testing.T) (*ga4fake.Server, *analyticsdata.Service) {
	t.Helper()
	srv := ga4fake.New(t)
	svc, err := analyticsdata.NewService(context.Background(), srv.ClientOptions()...)
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	return srv, svc
}

func run(svc *analyticsdata.Service, property string, req *analyticsdata.RunReportRequest) (*analyticsdata.RunReportResponse, error) {
	return svc.Properties.RunReport("properties/"+property, req).Context(context.Background()).Do()
}

func mustRun(t *testing.T, svc *analyticsdata.Service, req *analyticsdata.RunReportRequest) *analyticsdata.RunReportResponse {
	t.Helper()
	resp, err := run(svc, prop, req)
	if err != nil {
		t.Fatalf("runReport: %v", err)
	}
	return resp
}

// report builds a request over January 2024.
func report(dims, metrics []string) *analyticsdata.RunReportRequest {
	r := &analyticsdata.RunReportRequest{DateRanges: []*analyticsdata.DateRange{{StartDate: "2024-01-01", EndDate: "2024-01-31"}}}
	for _, d := range dims {
		r.Dimensions = append(r.Dimensions, &analyticsdata.Dimension{Name: d})
	}
	for _, m := range metrics {
		r.Metrics = append(r.Metrics, &analyticsdata.Metric{Name: m})
	}
	return r
}

// rows renders rows as "d1|d2=m1,m2;..." for compact comparisons.
func rows(resp *analyticsdata.RunReportResponse) string {
	var out []string
	for _, r := range resp.Rows {
		var d, m []string
		for _, v := range r.DimensionValues {
			d = append(d, v.Value)
		}
		for _, v := range r.MetricValues {
			m = append(m, v.Value)
		}
		out = append(out, strings.Join(d, "|")+"="+strings.Join(m, ","))
	}
	return strings.Join(out, ";")
}

// wantErr checks that err is a *googleapi.Error with that code whose
// message contains msg, and that the body carries Google's status name.
func wantErr(t *testing.T, err error, code int, status, msg string) {
	t.Helper()
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error = %v, want *googleapi.Error %d", err, code)
	}
	if ge.Code != code || !strings.Contains(ge.Message, msg) || !strings.Contains(ge.Body, `"status":"`+status+`"`) {
		t.Fatalf("error = %d %q (body %s), want %d %s containing %q", ge.Code, ge.Message, ge.Body, code, status, msg)
	}
}

func TestPagingLimitOffset(t *testing.T) {
	srv, svc := setup(t)
	for i := 24; i >= 0; i-- {
		srv.AddEvents(prop, ga4fake.Event{Date: "20240105", Name: fmt.Sprintf("e%02d", i), Count: int64(i + 1)})
	}
	var got []string
	for _, off := range []int64{0, 10, 20, 30} {
		req := report([]string{"eventName"}, []string{"eventCount"})
		req.Limit, req.Offset = 10, off
		resp := mustRun(t, svc, req)
		want := min(10, max(0, 25-int(off)))
		if len(resp.Rows) != want || resp.RowCount != 25 {
			t.Fatalf("offset %d: %d rows, rowCount %d; want %d, 25", off, len(resp.Rows), resp.RowCount, want)
		}
		for _, r := range resp.Rows {
			got = append(got, r.DimensionValues[0].Value+"="+r.MetricValues[0].Value)
		}
	}
	if len(got) != 25 || got[0] != "e00=1" || got[9] != "e09=10" || got[24] != "e24=25" {
		t.Errorf("pages = %v", got)
	}
	// The client sends int64 fields as JSON strings.
	if body := string(srv.Requests()[1].Body); !strings.Contains(body, `"limit":"10"`) || !strings.Contains(body, `"offset":"10"`) {
		t.Errorf("request body = %s", body)
	}
	if p := srv.Requests()[0].Path; p != "/v1beta/properties/"+prop+":runReport" {
		t.Errorf("path = %s", p)
	}
}

func TestGroupingAndMetrics(t *testing.T) {
	srv, svc := setup(t)
	ref := "customUser:customer_ref"
	srv.AddEvents(prop,
		ga4fake.Event{Date: "20240102", Name: "purchase", Users: []string{"u1", "u2"}, Count: 2, Revenue: 10.5,
			Dims: map[string]string{ref: "E1", "transactionId": "T1"}},
		ga4fake.Event{Date: "20240102", Name: "purchase", Users: []string{"u2", "u3"}, Count: 1, Revenue: 4.25,
			Dims: map[string]string{ref: "E1", "transactionId": "T2"}},
		ga4fake.Event{Date: "20240101", Name: "page_view", Users: []string{"u1"}, Count: 5},
		ga4fake.Event{Date: "20231231", Name: "page_view", Users: []string{"u9"}, Count: 7}, // out of range
	)
	resp := mustRun(t, svc, report([]string{"date", "eventName", ref},
		[]string{"eventCount", "activeUsers", "purchaseRevenue", "transactions", "totalUsers"}))
	if want := "20240101|page_view|(not set)=5,1,0,0,1;20240102|purchase|E1=3,3,14.75,2,3"; rows(resp) != want {
		t.Errorf("rows = %s, want %s", rows(resp), want)
	}
	if resp.RowCount != 2 || len(resp.DimensionHeaders) != 3 || resp.DimensionHeaders[2].Name != ref {
		t.Errorf("rowCount %d, dimension headers %+v", resp.RowCount, resp.DimensionHeaders)
	}
	var types []string
	for _, h := range resp.MetricHeaders {
		types = append(types, h.Name+":"+h.Type)
	}
	if got := strings.Join(types, " "); got != "eventCount:TYPE_INTEGER activeUsers:TYPE_INTEGER purchaseRevenue:TYPE_CURRENCY transactions:TYPE_INTEGER totalUsers:TYPE_INTEGER" {
		t.Errorf("metric headers = %s", got)
	}
	md := resp.Metadata
	if md.CurrencyCode != "EUR" || md.TimeZone != "Europe/Paris" || md.SubjectToThresholding || md.DataLossFromOtherRow || resp.PropertyQuota != nil {
		t.Errorf("metadata = %+v, quota %+v", md, resp.PropertyQuota)
	}
	// Without dimensions: one total row, users distinct across all events.
	if got := rows(mustRun(t, svc, report(nil, []string{"activeUsers", "eventCount"}))); got != "=3,8" {
		t.Errorf("totals row = %s", got)
	}
}

func TestDimensionFilter(t *testing.T) {
	srv, svc := setup(t)
	ref := "customUser:customer_ref"
	for i, name := range []string{"purchase", "sign_up", "page_view", "purchase"} {
		srv.AddEvents(prop, ga4fake.Event{Date: "20240110", Name: name, Count: 1,
			Dims: map[string]string{ref: fmt.Sprintf("E%d", i%2+1)}})
	}
	inList := &analyticsdata.FilterExpression{Filter: &analyticsdata.Filter{FieldName: "eventName",
		InListFilter: &analyticsdata.InListFilter{Values: []string{"purchase", "sign_up"}}}}
	req := report([]string{"eventName"}, []string{"eventCount"})
	req.DimensionFilter = inList
	if got := rows(mustRun(t, svc, req)); got != "purchase=2;sign_up=1" {
		t.Errorf("inListFilter rows = %s", got)
	}
	req.DimensionFilter = &analyticsdata.FilterExpression{AndGroup: &analyticsdata.FilterExpressionList{
		Expressions: []*analyticsdata.FilterExpression{inList, {NotExpression: &analyticsdata.FilterExpression{
			Filter: &analyticsdata.Filter{FieldName: ref, StringFilter: &analyticsdata.StringFilter{MatchType: "EXACT", Value: "E2"}}}}},
	}}
	if got := rows(mustRun(t, svc, req)); got != "purchase=1" { // drops sign_up/E2 and purchase/E2
		t.Errorf("andGroup/notExpression rows = %s", got)
	}
}

func TestOtherRow(t *testing.T) {
	srv, svc := setup(t)
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		srv.AddEvents(prop, ga4fake.Event{Date: "20240103", Name: name, Count: int64(50 - 10*i), Users: []string{"u" + name, "shared"}})
	}
	srv.SetRowLimitBeforeOther(prop, 3)
	resp := mustRun(t, svc, report([]string{"eventName"}, []string{"eventCount", "activeUsers"}))
	if got := rows(resp); got != "(other)=30,3;a=50,2;b=40,2;c=30,2" {
		t.Errorf("rows = %s", got)
	}
	if !resp.Metadata.DataLossFromOtherRow || resp.RowCount != 4 {
		t.Errorf("metadata = %+v, rowCount %d", resp.Metadata, resp.RowCount)
	}
}

func TestMetadataAndRelativeDates(t *testing.T) {
	srv, svc := setup(t)
	srv.SetThresholded(prop, true)
	srv.SetTimeZone(prop, "America/New_York")
	// 2024-03-10 02:00 UTC is still 2024-03-09 in New York.
	srv.SetNow(time.Date(2024, 3, 10, 2, 0, 0, 0, time.UTC))
	srv.AddEvents(prop,
		ga4fake.Event{Date: "20240309", Name: "today", Count: 1},
		ga4fake.Event{Date: "20240308", Name: "yesterday", Count: 1},
		ga4fake.Event{Date: "20240302", Name: "week", Count: 1},
	)
	req := report([]string{"eventName"}, []string{"eventCount"})
	req.DateRanges[0] = &analyticsdata.DateRange{StartDate: "7daysAgo", EndDate: "yesterday"}
	req.ReturnPropertyQuota = true
	resp := mustRun(t, svc, req)
	if got := rows(resp); got != "week=1;yesterday=1" {
		t.Errorf("rows = %s", got)
	}
	md := resp.Metadata
	if !md.SubjectToThresholding || md.TimeZone != "America/New_York" || md.CurrencyCode != "EUR" {
		t.Errorf("metadata = %+v", md)
	}
	if q := resp.PropertyQuota.PotentiallyThresholdedRequestsPerHour; q.Consumed != 1 || q.Remaining != 119 {
		t.Errorf("potentiallyThresholdedRequestsPerHour = %+v", q)
	}
}

func TestQuotaAndExhaustion(t *testing.T) {
	srv, svc := setup(t)
	srv.AddEvents(prop, ga4fake.Event{Date: "20240101", Name: "x", Count: 1})
	srv.SetTokens(prop, 10, 25)
	req := report([]string{"eventName"}, []string{"eventCount"})
	req.ReturnPropertyQuota = true
	for i, want := range []int64{15, 5} {
		q := mustRun(t, svc, req).PropertyQuota
		if q == nil || q.TokensPerDay.Remaining != want || q.TokensPerDay.Consumed != int64(10*(i+1)) ||
			q.TokensPerHour.Remaining != 40000-int64(10*(i+1)) || q.ConcurrentRequests.Remaining != 10 ||
			q.ServerErrorsPerProjectPerHour.Remaining != 10 || q.TokensPerProjectPerHour.Consumed != int64(10*(i+1)) {
			t.Fatalf("request %d: quota = %+v", i, q)
		}
	}
	_, err := run(svc, prop, req)
	wantErr(t, err, 429, "RESOURCE_EXHAUSTED", "Exhausted property tokens per day for a property")
	// A failed request consumes nothing: raising the budget lets it through.
	srv.SetTokens(prop, 5, 5)
	if q := mustRun(t, svc, req).PropertyQuota; q.TokensPerDay.Remaining != 0 || q.TokensPerDay.Consumed != 25 {
		t.Errorf("quota after top-up = %+v", q.TokensPerDay)
	}
}

func TestInvalidRequests(t *testing.T) {
	srv, svc := setup(t)
	srv.AddProperty(prop)
	many := func(prefix string, n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%s%d", prefix, i))
		}
		return out
	}
	cases := []struct {
		name string
		edit func(*analyticsdata.RunReportRequest)
		msg  string
	}{
		{"unknown metric", func(r *analyticsdata.RunReportRequest) { r.Metrics[0].Name = "pageViews" }, "Field pageViews is not a valid metric."},
		{"unknown dimension", func(r *analyticsdata.RunReportRequest) { r.Dimensions[0].Name = "city" }, "Field city is not a valid dimension."},
		{"no date range", func(r *analyticsdata.RunReportRequest) { r.DateRanges = nil }, "Date ranges must be specified"},
		{"start after end", func(r *analyticsdata.RunReportRequest) { r.DateRanges[0].StartDate = "2024-02-01" }, "is after the endDate"},
		{"bad date", func(r *analyticsdata.RunReportRequest) { r.DateRanges[0].EndDate = "2024/01/31" }, "Invalid date"},
		{"limit too big", func(r *analyticsdata.RunReportRequest) { r.Limit = 250001 }, "limit 250001"},
		{"negative limit", func(r *analyticsdata.RunReportRequest) { r.Limit = -1 }, "limit must be positive"},
		{"negative offset", func(r *analyticsdata.RunReportRequest) { r.Offset = -1 }, "offset must be non-negative"},
		{"10 dimensions", func(r *analyticsdata.RunReportRequest) {
			*r = *report(many("customEvent:d", 10), []string{"eventCount"})
		}, "limited to 9 dimensions"},
		{"11 metrics", func(r *analyticsdata.RunReportRequest) {
			*r = *report(nil, strings.Fields(strings.Repeat("eventCount ", 11)))
		}, "limited to 10 metrics"},
	}
	for _, c := range cases {
		req := report([]string{"eventName"}, []string{"eventCount"})
		c.edit(req)
		_, err := run(svc, prop, req)
		wantErr(t, err, 400, "INVALID_ARGUMENT", c.msg)
	}
	_, err := run(svc, "999", report(nil, []string{"eventCount"}))
	wantErr(t, err, 404, "NOT_FOUND", "Requested entity was not found.")
}

// TestFailNextNotRetried documents that the generated analyticsdata client
// does not retry: an injected 429 or 503 reaches the caller after exactly
// one HTTP request, so retrying is the GA4 source's job.
func TestFailNextNotRetried(t *testing.T) {
	srv, svc := setup(t)
	srv.AddEvents(prop, ga4fake.Event{Date: "20240101", Name: "x", Count: 1})
	srv.SetTokens(prop, 10, 100)
	isReport := func(r ga4fake.Request) bool { return strings.HasSuffix(r.Path, ":runReport") }
	srv.FailNext(isReport, http.StatusTooManyRequests, 1)
	srv.FailNext(nil, http.StatusServiceUnavailable, 1)
	req := report(nil, []string{"eventCount"})
	req.ReturnPropertyQuota = true

	_, err := run(svc, prop, req)
	wantErr(t, err, 429, "RESOURCE_EXHAUSTED", "Exhausted property tokens per hour")
	if n := len(srv.Requests()); n != 1 {
		t.Fatalf("requests after 429 = %d, want 1 (no client retry)", n)
	}
	_, err = run(svc, prop, req)
	wantErr(t, err, 503, "UNAVAILABLE", "The service is currently unavailable.")
	resp := mustRun(t, svc, req)
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
	q := resp.PropertyQuota
	if q.TokensPerDay.Consumed != 10 || q.ServerErrorsPerProjectPerHour.Consumed != 1 {
		t.Errorf("quota = day %+v, server errors %+v", q.TokensPerDay, q.ServerErrorsPerProjectPerHour)
	}
}

// Users are counted once per row, as GA4 counts them: u1 triggers two
// events on Jan 1 and is active on two days; without eventName the day row
// counts u1 once (2 users, not 3), and the yearMonth row counts the month's
// distinct users (2: u1, u2), not the sum of the days (3).
func TestUsersAreCountedOncePerRow(t *testing.T) {
	srv, svc := setup(t)
	srv.AddEvents(prop,
		ga4fake.Event{Date: "20240101", Name: "page_view", Users: []string{"u1", "u2"}, Count: 3},
		ga4fake.Event{Date: "20240101", Name: "add_to_cart", Users: []string{"u1"}, Count: 1},
		ga4fake.Event{Date: "20240102", Name: "page_view", Users: []string{"u1"}, Count: 1},
		ga4fake.Event{Date: "20240201", Name: "page_view", Users: []string{"u3"}, Count: 1})
	if got := rows(mustRun(t, svc, report([]string{"date"}, []string{"activeUsers"}))); got != "20240101=2;20240102=1" {
		t.Errorf("per day: %s", got)
	}
	if got := rows(mustRun(t, svc, report([]string{"date", "eventName"}, []string{"activeUsers"}))); got != "20240101|add_to_cart=1;20240101|page_view=2;20240102|page_view=1" {
		t.Errorf("per day and event: %s", got)
	}
	req := report([]string{"yearMonth"}, []string{"activeUsers", "totalUsers"})
	req.DateRanges[0].EndDate = "2024-02-29"
	if got := rows(mustRun(t, svc, req)); got != "202401=2,2;202402=1,1" {
		t.Errorf("per month: %s", got)
	}
	if got := rows(mustRun(t, svc, report(nil, []string{"activeUsers"}))); got != "=2" {
		t.Errorf("over the range: %s", got)
	}
}

func TestDuplicateNamesAreRejected(t *testing.T) {
	srv, svc := setup(t)
	srv.AddProperty(prop)
	_, err := run(svc, prop, report([]string{"date", "date"}, []string{"activeUsers"}))
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Duplicate dimension names are not allowed: date.")
	_, err = run(svc, prop, report([]string{"date"}, []string{"activeUsers", "activeUsers"}))
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Duplicate metric names are not allowed: activeUsers.")
}

func TestDataLossFromOtherRowWithoutAnOtherRow(t *testing.T) {
	srv, svc := setup(t)
	srv.AddEvents(prop, ga4fake.Event{Date: "20240101", Name: "page_view", Users: []string{"u1"}, Count: 1})
	srv.SetDataLossFromOtherRow(prop, true)
	resp := mustRun(t, svc, report([]string{"date"}, []string{"eventCount"}))
	if !resp.Metadata.DataLossFromOtherRow || rows(resp) != "20240101=1" {
		t.Errorf("metadata %+v, rows %s", resp.Metadata, rows(resp))
	}
}
