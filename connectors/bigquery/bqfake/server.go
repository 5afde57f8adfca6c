// Package bqfake is an in-process fake of the BigQuery REST API v2 for tests.
//
// It serves, over a real HTTP listener (net/http/httptest), the part of the
// API that the Go client cloud.google.com/go/bigquery uses to manage
// datasets and tables, load data and run the statements uptake needs, so
// tests exercise the real client end to end. State is kept in memory and can
// be inspected with Server.Table, Server.Datasets and Server.Requests.
// Errors use BigQuery's JSON error body, so the client sees *googleapi.Error
// values with the same HTTP status and reason as against the real service.
//
//	srv := bqfake.New(t, "my-project")
//	client, err := bigquery.NewClient(ctx, "my-project", srv.ClientOptions()...)
//
// Served (paths under /bigquery/v2/projects/{project}):
//
//   - datasets: insert, get, list, delete
//   - tables: insert, get, list, patch, update, delete (If-Match etags are
//     honoured); tabledata.list (.../tables/{t}/data, partition decorators
//     allowed)
//   - jobs.insert for query jobs, and for load jobs as media uploads under
//     /upload/bigquery/v2/... with uploadType=multipart or resumable;
//     jobs.get, jobs.cancel, jobs.getQueryResults (GET .../queries/{job}),
//     jobs.query (POST .../queries, the client's Query.Read fast path)
//
// Load jobs take what uptake sends: a whole table, WRITE_TRUNCATE, PARQUET
// (parsed with DuckDB) with an explicit schema. Query jobs run exactly the statements
// uptake sends (script.go): BEGIN TRANSACTION; DELETE FROM `p.d.t` WHERE c;
// INSERT INTO `p.d.t` (`a`, ...) SELECT `a`, ... FROM `p.d.s` WHERE c;
// COMMIT TRANSACTION; SELECT COUNT(*) FROM `p.d.t` WHERE c, where c is TRUE,
// FALSE, `col` BETWEEN @lo AND @hi or @lo <= @hi (named parameters). Any
// other statement is refused (400 invalidQuery): GoogleSQL itself is tested
// on the BigQuery emulator, and queries the product builds otherwise (the
// GA4 export pushdown) get the answers a test sets with AnswerQuery.
// Tables must be in the job's location.
//
// As in BigQuery, statements of a script outside a transaction take effect
// one by one, while the statements between BEGIN TRANSACTION and COMMIT
// TRANSACTION take effect together or not at all; a load replaces the
// table's schema (descriptions included) with the load's.
// Jobs take effect when created; they are reported RUNNING by jobs.insert
// and DONE from the next jobs.get or getQueryResults on.
//
// Like BigQuery, it allows 5 table update operations per table every 10
// seconds (tables.insert/patch/update, load jobs, each DML statement) and
// refuses more with 403 rateLimitExceeded (SetTableUpdateRate, TableUpdates);
// SkewNextLoad makes a load silently keep more or fewer rows than it reports.
//
// Anything else answers 404 with a message starting with "bqfake:", so
// unexpected client calls show up in tests.
package bqfake

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/option"

	"github.com/uptake-dev/uptake/connectors/googlefake"
)

// Server is a running fake BigQuery endpoint. All methods are safe for
// concurrent use.
type Server struct {
	project string
	srv     *httptest.Server
	tb      testing.TB

	mu        sync.Mutex
	datasets  map[string]*dataset
	jobs      map[string]*job
	uploads   map[string]*upload
	log       googlefake.Log // the requests received, the failures injected
	jobFaults []*jobFault
	answers   []*answer
	seq       int64
	db        *sql.DB // in-memory DuckDB used to read Parquet, opened lazily

	updateLimit  int // table update operations allowed per table per updateWindow
	updateWindow time.Duration
	updates      map[tkey][]time.Time // when each table's recent update operations took effect
	skews        []*loadSkew
	insertSkews  []*insertSkew
}

// Request is one HTTP request received by the fake, as logged by
// Server.Requests. For media uploads Body holds only the JSON metadata part;
// chunk uploads of a resumable session are logged with a nil Body.
type Request = googlefake.Request

type jobFault struct {
	match   func(map[string]any) bool
	reason  string
	message string
}

// New starts a fake BigQuery server for project and registers its shutdown
// with t.Cleanup.
func New(t testing.TB, project string) *Server {
	t.Helper()
	s := &Server{
		project:  project,
		tb:       t,
		datasets: map[string]*dataset{},
		jobs:     map[string]*job{},
		uploads:  map[string]*upload{},

		updateLimit:  DefaultTableUpdateLimit,
		updateWindow: DefaultTableUpdateWindow,
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(func() {
		s.srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.db != nil {
			_ = s.db.Close()
		}
	})
	return s
}

// URL returns the base URL of the fake, e.g. http://127.0.0.1:1234.
func (s *Server) URL() string { return s.srv.URL }

// ClientOptions returns the options that point a bigquery.Client (or the
// generated google.golang.org/api/bigquery/v2 service) at the fake: the API
// endpoint, no authentication, and the test server's HTTP client. Media
// uploads are sent to URL()+"/upload/bigquery/v2/...", derived by the client
// from the same endpoint host.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.URL() + "/bigquery/v2/"),
		option.WithoutAuthentication(),
		option.WithHTTPClient(s.srv.Client()),
	}
}

// Datasets returns the IDs of the existing datasets, sorted.
func (s *Server) Datasets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id := range s.datasets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Table returns a deep copy of the table's metadata and rows, and whether
// the table exists.
func (s *Server) Table(datasetID, tableID string) (*Table, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.liveTable(datasetID, tableID)
	if t == nil {
		return nil, false
	}
	c := t.Table.clone()
	return &c, true
}

// Requests returns a copy of the log of every request received so far,
// including the ones answered with an injected failure.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.Requests()
}

// FailNext makes the next n requests for which match returns true (a nil
// match matches every request) fail with the given HTTP status and error
// reason (for example 429 "rateLimitExceeded" or 500 "backendError") instead
// of being served. Rules are consulted in the order they were added.
func (s *Server) FailNext(match func(Request) bool, status int, reason string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.FailNext(match, status, reason, n)
}

// FailJob makes the next job whose configuration (the JSON object
// "configuration" of the Job resource, decoded into a map) satisfies match
// be accepted as usual but end DONE with status.errorResult {reason, message}
// and no effect on any table. A nil match matches every job.
//
// As BigQuery does, jobs.getQueryResults then answers for a failed query job
// with an HTTP error whose status follows the reason (notFound 404,
// duplicate 409, accessDenied/quotaExceeded/rateLimitExceeded 403,
// backendError/internalError 500, anything else 400). The Go client's
// Job.Wait and Job.Read return that error for a query job, but keep polling
// until their context ends when the reason is one the client retries
// (backendError, rateLimitExceeded, jobRateLimitExceeded, internalError) —
// the real client's behaviour against the real service. For a load job,
// Job.Wait returns a nil error and the failure in JobStatus.Err().
func (s *Server) FailJob(match func(jobConfig map[string]any) bool, reason, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobFaults = append(s.jobFaults, &jobFault{match: match, reason: reason, message: message})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, errorf(500, "internalError", "bqfake: encoding response: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(b)
}

// handled is returned by handlers that already wrote their response.
type handled struct{}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, invalidf("bqfake: reading request body: %v", err))
		return
	}
	var parts *mediaParts
	var perr *apiError
	logged := body
	q := r.URL.Query()
	if q.Get("upload_id") != "" {
		logged = nil
	} else if q.Get("uploadType") == "multipart" {
		parts, perr = parseMultipart(r.Header.Get("Content-Type"), body)
		logged = nil
		if parts != nil {
			logged = parts.metadata
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	req := s.logRequest(r, logged)
	if perr != nil {
		writeError(w, perr)
		return
	}
	if f := s.log.Injected(req); f != nil {
		writeError(w, errorf(f.Status, f.Reason, "%s", defaultMessage(f.Reason)))
		return
	}
	resp, aerr := s.route(w, r, body, parts)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if _, ok := resp.(handled); ok {
		return
	}
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, resp)
}

func (s *Server) logRequest(r *http.Request, body []byte) Request {
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: append([]byte(nil), body...)}
	s.log.Record(req)
	return req
}

// route dispatches a request to its handler. The server lock is held.
func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte, parts *mediaParts) (any, *apiError) {
	path := r.URL.Path
	upload := false
	switch {
	case strings.HasPrefix(path, "/bigquery/v2/"):
		path = strings.TrimPrefix(path, "/bigquery/v2/")
	case strings.HasPrefix(path, "/upload/bigquery/v2/"):
		path = strings.TrimPrefix(path, "/upload/bigquery/v2/")
		upload = true
	default:
		return nil, s.unhandled(r)
	}
	seg := strings.Split(strings.Trim(path, "/"), "/")
	if len(seg) < 3 || seg[0] != "projects" {
		return nil, s.unhandled(r)
	}
	if seg[1] != s.project {
		return nil, notFoundf("Not found: Project %s", seg[1])
	}
	seg = seg[2:]
	m := r.Method
	switch {
	case upload && len(seg) == 1 && seg[0] == "jobs" && (m == "POST" || m == "PUT"):
		return s.handleUpload(w, r, body, parts)
	case upload:
		return nil, s.unhandled(r)
	case len(seg) == 1 && seg[0] == "datasets" && m == "GET":
		return s.listDatasets(r)
	case len(seg) == 1 && seg[0] == "datasets" && m == "POST":
		return s.insertDataset(body)
	case len(seg) == 2 && seg[0] == "datasets" && m == "GET":
		return s.getDataset(seg[1])
	case len(seg) == 2 && seg[0] == "datasets" && m == "DELETE":
		return s.deleteDataset(r, seg[1])
	case len(seg) == 3 && seg[0] == "datasets" && seg[2] == "tables" && m == "GET":
		return s.listTables(r, seg[1])
	case len(seg) == 3 && seg[0] == "datasets" && seg[2] == "tables" && m == "POST":
		return s.insertTable(seg[1], body)
	case len(seg) == 4 && seg[0] == "datasets" && seg[2] == "tables" && m == "GET":
		return s.getTable(seg[1], seg[3])
	case len(seg) == 4 && seg[0] == "datasets" && seg[2] == "tables" && (m == "PATCH" || m == "PUT"):
		return s.patchTable(r, seg[1], seg[3], body, m == "PUT")
	case len(seg) == 4 && seg[0] == "datasets" && seg[2] == "tables" && m == "DELETE":
		return s.deleteTable(seg[1], seg[3])
	case len(seg) == 5 && seg[0] == "datasets" && seg[2] == "tables" && seg[4] == "data" && m == "GET":
		return s.listTableData(r, seg[1], seg[3])
	case len(seg) == 1 && seg[0] == "jobs" && m == "POST":
		return s.insertJSONJob(body)
	case len(seg) == 2 && seg[0] == "jobs" && m == "GET":
		return s.getJob(r, seg[1])
	case len(seg) == 3 && seg[0] == "jobs" && seg[2] == "cancel" && m == "POST":
		return s.cancelJob(r, seg[1])
	case len(seg) == 1 && seg[0] == "queries" && m == "POST":
		return s.runQueryRequest(body)
	case len(seg) == 2 && seg[0] == "queries" && m == "GET":
		return s.getQueryResults(r, seg[1])
	}
	return nil, s.unhandled(r)
}

func (s *Server) unhandled(r *http.Request) *apiError {
	return notFoundf("bqfake: %s %s is not implemented by the fake BigQuery server", r.Method, r.URL.Path)
}

// decodeStrict decodes a JSON request body, rejecting unknown fields the way
// BigQuery rejects an unknown name in a payload.
func decodeStrict(body []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidf("Invalid JSON payload received. %v", err)
	}
	return nil
}

// mediaParts is a parsed multipart/related upload: JSON metadata then media.
type mediaParts struct {
	metadata []byte
	media    []byte
}

func parseMultipart(contentType string, body []byte) (*mediaParts, *apiError) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		return nil, invalidf("bqfake: multipart upload with Content-Type %q", contentType)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var got [][]byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, invalidf("bqfake: reading multipart body: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, invalidf("bqfake: reading multipart part: %v", err)
		}
		got = append(got, b)
	}
	if len(got) != 2 {
		return nil, invalidf("bqfake: multipart upload must have 2 parts (metadata, media), got %d", len(got))
	}
	return &mediaParts{metadata: got[0], media: got[1]}, nil
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%d_%d", prefix, time.Now().UnixNano()%1e9, s.seq)
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
