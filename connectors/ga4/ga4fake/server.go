// Package ga4fake is an in-process fake of the Google Analytics Data API
// v1beta for tests.
//
// It serves, over a real HTTP listener (net/http/httptest), the part of the
// API that the uptake GA4 source uses, properties.runReport, so tests
// exercise the real generated client google.golang.org/api/analyticsdata/v1beta
// end to end. Each property holds raw events loaded with Server.AddEvents;
// a report filters them by date ranges and dimensionFilter, groups them by
// the requested dimensions, computes the metrics, sorts and pages the rows.
// Errors use Google's JSON error body, so the client sees *googleapi.Error
// values with the same HTTP status and message style as against the real
// service ("Field foo is not a valid metric. ...").
//
//	srv := ga4fake.New(t)
//	srv.AddEvents("123", ga4fake.Event{Date: "20240102", Name: "purchase", Count: 1})
//	svc, err := analyticsdata.NewService(ctx, srv.ClientOptions()...)
//	resp, err := svc.Properties.RunReport("properties/123", req).Do()
//
// Served: POST /v1beta/properties/{id}:runReport. Supported request fields
// are one dateRange (YYYY-MM-DD, today, yesterday, NdaysAgo; inclusive),
// dimensions, metrics, dimensionFilter (filter with stringFilter or
// inListFilter, andGroup, orGroup, notExpression), orderBys (dimension or
// metric, desc), limit (default 10,000), offset, keepEmptyRows and
// currencyCode (both ignored) and returnPropertyQuota. Rows are sorted by
// orderBys then by dimension values; rowCount is the number of rows before
// paging. Several date ranges, metricFilter, metricAggregations,
// comparisons, cohortSpec and expressions are answered with 400 and a
// message starting with "ga4fake:", so an unexpected use shows up in tests;
// any other path answers 404 the same way. Unknown JSON fields are
// rejected as Google does.
//
// Known dimensions: date, yearMonth, eventName, transactionId, customUser:*
// and customEvent:*. Known metrics: eventCount, activeUsers, totalUsers
// (both distinct users, the fake has no notion of engagement),
// purchaseRevenue and transactions. Users are counted as GA4 counts them:
// once per row over every event the row aggregates (a report without
// eventName counts a user who triggered two events once; a yearMonth row
// counts the month's distinct users, not a sum of days). Dimensions or
// metrics named twice are rejected as Google does.
//
// Deviations: an unknown property answers 404 NOT_FOUND (Google usually
// answers 403 PERMISSION_DENIED for a property the caller cannot see), a
// limit above 250,000 is rejected rather than capped, only the daily token
// quota is enforced, and the "(other)" row is built after filtering rather
// than in GA4's pre-aggregated tables.
package ga4fake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/option"

	"github.com/uptake-dev/uptake/connectors/googlefake"
)

// Default quota settings of a property (a standard GA4 property).
const (
	DefaultTokensPerRequest = 10
	DefaultTokensPerDay     = 200_000
	tokensPerHour           = 40_000
	tokensPerProjectPerHour = 14_000
)

// Server is a running fake Data API endpoint. All methods are safe for
// concurrent use.
type Server struct {
	srv *httptest.Server

	mu         sync.Mutex
	properties map[string]*property
	log        googlefake.Log // the requests received, the failures injected
	now        func() time.Time
}

// Event is one aggregated bucket of raw data loaded into a property: Count
// occurrences of the event Name on Date (YYYYMMDD), by the given Users, with
// Revenue in the property's currency. Dims holds the other dimension
// values, e.g. "customUser:customer_ref": "E1" or "transactionId": "T1";
// a dimension missing here reports "(not set)".
type Event struct {
	Date    string
	Name    string
	Dims    map[string]string
	Users   []string
	Count   int64
	Revenue float64
}

// Request is one HTTP request received by the fake, as logged by
// Server.Requests; Body is a copy of the request body.
type Request = googlefake.Request

type property struct {
	events        []Event
	otherAfter    int // 0: no "(other)" row
	dataLoss      bool
	thresholded   bool
	sampled       [2]int64 // samples read, sampling space (0: not sampled)
	timeZone      string
	perRequest    int64
	remaining     int64 // daily tokens left
	consumed      int64 // tokens consumed so far
	serverErrors  int64
	thresholdReqs int64
}

// New starts a fake Data API server and registers its shutdown with
// t.Cleanup.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{properties: map[string]*property{}, now: time.Now}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL returns the base URL of the fake, e.g. http://127.0.0.1:1234.
func (s *Server) URL() string { return s.srv.URL }

// ClientOptions returns the options that point analyticsdata.NewService at
// the fake: the endpoint URL()+"/", no authentication, and the test
// server's HTTP client.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.URL() + "/"),
		option.WithoutAuthentication(),
		option.WithHTTPClient(s.srv.Client()),
	}
}

// prop returns the property with that ID ("123" or "properties/123"),
// creating it with default settings. The server lock is held.
func (s *Server) prop(id string) *property {
	id = strings.TrimPrefix(id, "properties/")
	p := s.properties[id]
	if p == nil {
		p = &property{timeZone: "Europe/Paris", perRequest: DefaultTokensPerRequest, remaining: DefaultTokensPerDay}
		s.properties[id] = p
	}
	return p
}

// AddProperty creates an empty property, so that it answers reports (with
// no rows) instead of 404. Every other setter also creates the property.
func (s *Server) AddProperty(propertyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prop(propertyID)
}

// AddEvents appends events to the property's data.
func (s *Server) AddEvents(propertyID string, events ...Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.prop(propertyID)
	for _, e := range events {
		dims := make(map[string]string, len(e.Dims))
		for k, v := range e.Dims {
			dims[k] = v
		}
		e.Dims = dims
		e.Users = append([]string(nil), e.Users...)
		p.events = append(p.events, e)
	}
}

// SetRowLimitBeforeOther makes reports keep only the n grouped rows with
// the highest eventCount and merge the others into one row whose dimension
// values are all "(other)", with metadata.dataLossFromOtherRow set. n <= 0
// turns it off (the default).
func (s *Server) SetRowLimitBeforeOther(propertyID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prop(propertyID).otherAfter = n
}

// SetDataLossFromOtherRow sets metadata.dataLossFromOtherRow on the
// property's reports without an "(other)" row in them, as GA4 does when the
// rows it bucketed into "(other)" in its own tables are not the report's
// (filtered out, or merged into rows that are returned).
func (s *Server) SetDataLossFromOtherRow(propertyID string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prop(propertyID).dataLoss = on
}

// SetThresholded sets metadata.subjectToThresholding on the property's
// reports (the data itself is not thresholded).
func (s *Server) SetThresholded(propertyID string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prop(propertyID).thresholded = on
}

// SetSampled makes the property's reports say they were sampled: samples
// read of a sampling space (metadata.samplingMetadatas; the data itself is
// not sampled).
func (s *Server) SetSampled(propertyID string, samplesRead, samplingSpace int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prop(propertyID).sampled = [2]int64{samplesRead, samplingSpace}
}

// SetTimeZone sets the property's reporting time zone (an IANA name,
// "Europe/Paris" by default), reported in metadata.timeZone and used to
// resolve "today", "yesterday" and "NdaysAgo".
func (s *Server) SetTimeZone(propertyID, tz string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prop(propertyID).timeZone = tz
}

// SetTokens sets the tokens each successful runReport consumes (10 by
// default) and the daily tokens left (200,000 by default). A request that
// would bring the remaining tokens below zero fails with 429
// RESOURCE_EXHAUSTED and consumes nothing.
func (s *Server) SetTokens(propertyID string, perRequest, dailyRemaining int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.prop(propertyID)
	p.perRequest, p.remaining = perRequest, dailyRemaining
}

// SetNow sets the clock used to resolve relative dates (time.Now by
// default).
func (s *Server) SetNow(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = func() time.Time { return now }
}

// Requests returns a copy of the log of every request received so far,
// including the ones answered with an error or an injected failure.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.Requests()
}

// FailNext makes the next n requests for which match returns true (a nil
// match matches every request) fail with the given HTTP status and Google's
// JSON error for it (429 RESOURCE_EXHAUSTED, 500 INTERNAL, 503
// UNAVAILABLE, ...) instead of being served; they consume no tokens. Rules
// are consulted in the order they were added.
func (s *Server) FailNext(match func(Request) bool, status int, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.FailNext(match, status, "", n)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, invalidf("ga4fake: reading request body: %v", err))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req := Request{Method: r.Method, Path: r.URL.Path, Body: body}
	s.log.Record(req)
	id, ok := strings.CutPrefix(r.URL.Path, "/v1beta/properties/")
	id, verb, _ := strings.Cut(id, ":")
	if !ok || verb != "runReport" || id == "" || strings.Contains(id, "/") || r.Method != http.MethodPost {
		writeError(w, errorf(http.StatusNotFound, "ga4fake: %s %s is not implemented by the fake Data API server", r.Method, r.URL.Path))
		return
	}
	p := s.properties[id]
	if f := s.log.Injected(req); f != nil {
		if p != nil && f.Status >= 500 {
			p.serverErrors++
		}
		writeError(w, injectedError(f.Status))
		return
	}
	if p == nil {
		writeError(w, errorf(http.StatusNotFound, "Requested entity was not found."))
		return
	}
	resp, aerr := s.runReport(p, body)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, resp)
}
