// Package sheetsfake is an in-process fake of the Google Sheets REST API v4
// for tests.
//
// It serves, over a real HTTP listener (net/http/httptest), the part of the
// API that uptake uses to publish KPI tables, so tests exercise the real
// generated client google.golang.org/api/sheets/v4 end to end. Each
// spreadsheet keeps its sheets (properties and a sparse cell grid) in memory;
// they can be inspected with Server.Sheet, Server.Sheets and Server.Requests.
// Errors use Google's JSON error body, so the client sees *googleapi.Error
// values with the same HTTP status and message style as against the real
// service ("Invalid requests[2].addSheet: A sheet with the name ...").
//
//	srv := sheetsfake.New(t)
//	id := srv.CreateSpreadsheet("KPIs", "Sheet1")
//	svc, err := sheets.NewService(ctx, srv.ClientOptions()...)
//
// Served (paths under /v4/spreadsheets):
//
//   - spreadsheets.get: GET /{id}, with includeGridData and ranges (ranges
//     only select sheets by title; the whole grid of each is returned). The
//     fields parameter is accepted and ignored.
//   - spreadsheets.batchUpdate: POST /{id}:batchUpdate with the request
//     kinds addSheet, deleteSheet, updateSheetProperties, updateCells,
//     repeatCell, copyPaste, appendDimension and deleteDimension (a range
//     or coordinate naming no sheet, outside its grid or reversed is
//     refused, as Google refuses it); any other kind is
//     rejected with 400 so an unexpected call shows up in tests, as is a
//     batch without requests.
//
// As in Sheets, a batch is atomic: requests are applied in order to a copy
// and the copy replaces the spreadsheet only if all of them are valid. The
// workbook limit of 10,000,000 cells (MaxCells) is checked after each
// request that grows a grid, so a batch whose intermediate state exceeds it
// fails even if a later request (a deleteSheet) would shrink it back; a
// failed batch answers 400 with Google's error shape and changes nothing.
// FailNext and FailAt inject failures (a quota, an outage, a run refused
// or killed at its nth write). The
// limit of 50,000 characters per cell is enforced, as is a request payload
// limit (SetMaxRequestBytes).
// The fake does not evaluate formulas and does not format numbers by
// pattern (formattedValue is the plain number).
//
// Anything else answers 404 with a message starting with "sheetsfake:".
package sheetsfake

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/api/option"

	"github.com/uptake-dev/uptake/connectors/googlefake"
)

// DefaultMaxRequestBytes is the default request payload limit. Sheets
// answers a larger body with 400 INVALID_ARGUMENT "Request payload size
// exceeds the limit: 10485760 bytes." (Google's documentation only
// recommends keeping payloads under 2 MB for speed).
const DefaultMaxRequestBytes = 10 << 20

// MaxCells is the Sheets limit on the number of cells of a spreadsheet
// (sum over its sheets of rowCount*columnCount).
const MaxCells = 10_000_000

// MaxCellChars is the Sheets limit on the characters in one cell.
const MaxCellChars = 50_000

// Server is a running fake Sheets endpoint. All methods are safe for
// concurrent use.
type Server struct {
	srv *httptest.Server

	mu           sync.Mutex
	spreadsheets map[string]*spreadsheet
	log          googlefake.Log // the requests received, the failures injected
	maxBytes     int
}

// Request is one HTTP request received by the fake, as logged by
// Server.Requests; Body is a copy of its body.
type Request = googlefake.Request

// New starts a fake Sheets server and registers its shutdown with
// t.Cleanup.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{spreadsheets: map[string]*spreadsheet{}, maxBytes: DefaultMaxRequestBytes}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL returns the base URL of the fake, e.g. http://127.0.0.1:1234.
func (s *Server) URL() string { return s.srv.URL }

// ClientOptions returns the options that point sheets.NewService at the
// fake: the endpoint URL()+"/", no authentication, and the test server's
// HTTP client.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.URL() + "/"),
		option.WithoutAuthentication(),
		option.WithHTTPClient(s.srv.Client()),
	}
}

// CreateSpreadsheet creates a spreadsheet, as a user would before sharing
// it with uptake, and returns its ID. It has one 1000x26 sheet per title
// (one "Sheet1" when none is given); as in Sheets, the first sheet's ID is 0
// and the others get random IDs. Titles must be distinct.
func (s *Server) CreateSpreadsheet(title string, sheetTitles ...string) string {
	if len(sheetTitles) == 0 {
		sheetTitles = []string{"Sheet1"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := &spreadsheet{id: newSpreadsheetID(), title: title}
	for i, st := range sheetTitles {
		if ss.byTitle(st) != nil {
			panic(fmt.Sprintf("sheetsfake: CreateSpreadsheet: duplicate sheet title %q", st))
		}
		id := int64(0)
		if i > 0 {
			id = ss.newSheetID()
		}
		ss.sheets = append(ss.sheets, &sheet{
			props: Sheet{ID: id, Title: st, Index: i, RowCount: defaultRows, ColumnCount: defaultCols},
			cells: map[coord]Cell{},
		})
	}
	s.spreadsheets[ss.id] = ss
	return ss.id
}

// Sheet returns a deep copy of the sheet with that title (compared
// case-insensitively, as Sheets does), and whether it exists.
func (s *Server) Sheet(spreadsheetID, title string) (*Sheet, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.spreadsheets[spreadsheetID]
	if ss == nil {
		return nil, false
	}
	sh := ss.byTitle(title)
	if sh == nil {
		return nil, false
	}
	snap := sh.snapshot()
	return &snap, true
}

// Sheets returns deep copies of the spreadsheet's sheets in index order
// (nil for an unknown spreadsheet).
func (s *Server) Sheets(spreadsheetID string) []Sheet {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.spreadsheets[spreadsheetID]
	if ss == nil {
		return nil
	}
	return sortedSheets(ss)
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
// JSON error for it (429 RESOURCE_EXHAUSTED with a quota message, 500
// INTERNAL, 503 UNAVAILABLE, ...) instead of being served; they have no
// effect. Rules are consulted in the order they were added.
func (s *Server) FailNext(match func(Request) bool, status int, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.FailNext(match, status, "", n)
}

// FailAt makes the nth request (counting from 1, from now on) for which
// match returns true fail with the given HTTP status, as FailNext does; the
// matching requests before it are served. With IsWrite, a test fails the
// nth write of a run, as a run killed or refused midway would stop.
func (s *Server) FailAt(match func(Request) bool, n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.FailAt(match, n, status, "")
}

// IsWrite matches the requests that change a spreadsheet (batchUpdate).
func IsWrite(r Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.Path, ":batchUpdate")
}

// SetMaxRequestBytes sets the request payload limit (DefaultMaxRequestBytes
// by default): a larger body is answered with 400 INVALID_ARGUMENT "Request
// payload size exceeds the limit: n bytes." and has no effect.
func (s *Server) SetMaxRequestBytes(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxBytes = n
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, invalidf("sheetsfake: reading request body: %v", err))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body}
	s.log.Record(req)
	if f := s.log.Injected(req); f != nil {
		writeError(w, injectedError(f.Status, r.Method))
		return
	}
	if len(body) > s.maxBytes {
		writeError(w, invalidf("Request payload size exceeds the limit: %d bytes.", s.maxBytes))
		return
	}
	resp, aerr := s.route(r, body)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, resp)
}

// route dispatches a request to its handler. The server lock is held.
func (s *Server) route(r *http.Request, body []byte) (any, *apiError) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v4/spreadsheets/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return nil, s.unhandled(r)
	}
	id, verb, hasVerb := strings.Cut(rest, ":")
	switch {
	case !hasVerb && r.Method == http.MethodGet:
		ss, aerr := s.lookup(id)
		if aerr != nil {
			return nil, aerr
		}
		q := r.URL.Query()
		for _, rg := range q["ranges"] {
			for t := range rangeTitles([]string{rg}) {
				if ss.byTitle(t) == nil {
					return nil, invalidf("Unable to parse range: %s", rg)
				}
			}
		}
		return ss.resource(s.URL(), q.Get("includeGridData") == "true", rangeTitles(q["ranges"])), nil
	case hasVerb && verb == "batchUpdate" && r.Method == http.MethodPost:
		ss, aerr := s.lookup(id)
		if aerr != nil {
			return nil, aerr
		}
		return s.batchUpdate(ss, body)
	}
	return nil, s.unhandled(r)
}

func (s *Server) lookup(id string) (*spreadsheet, *apiError) {
	ss := s.spreadsheets[id]
	if ss == nil {
		return nil, errorf(http.StatusNotFound, "Requested entity was not found.")
	}
	return ss, nil
}

func (s *Server) unhandled(r *http.Request) *apiError {
	return errorf(http.StatusNotFound, "sheetsfake: %s %s is not implemented by the fake Sheets server", r.Method, r.URL.Path)
}

func newSpreadsheetID() string {
	b := make([]byte, 33)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
