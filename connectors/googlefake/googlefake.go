// Package googlefake is what the in-process fakes of Google's REST APIs
// (bigquery/bqfake, sheets/sheetsfake, ga4/ga4fake) share: Google's JSON
// error envelope, the log of the requests a fake received, and the failures
// a test injects into its next requests. Each fake keeps what is its API's
// own: its routes, its state, the wording of its errors.
package googlefake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Error is an error answered in Google's JSON error format
// ({"error": {"code", "message", "status", "errors", "details"}}), which the
// generated clients turn into a *googleapi.Error.
type Error struct {
	// Code is the HTTP status.
	Code int
	// Status is the canonical status name (INVALID_ARGUMENT, NOT_FOUND…),
	// as the API names it for Code.
	Status string
	// Message is the error's text.
	Message string
	// Reason is errors[0].reason, for the APIs that give one (BigQuery:
	// invalid, notFound, rateLimitExceeded…); "" for the others.
	Reason string
	// Details are the error's details, for the APIs that give them (the
	// quota errors of Sheets).
	Details []map[string]any
}

// Error is "code reason: message" (the status name without a reason).
func (e *Error) Error() string {
	kind := e.Reason
	if kind == "" {
		kind = e.Status
	}
	return fmt.Sprintf("%d %s: %s", e.Code, kind, e.Message)
}

// Write answers the error.
func (e *Error) Write(w http.ResponseWriter) {
	inner := map[string]any{"code": e.Code, "message": e.Message, "status": e.Status}
	if e.Reason != "" {
		inner["errors"] = []map[string]any{{"reason": e.Reason, "message": e.Message, "domain": "global"}}
	}
	if len(e.Details) > 0 {
		inner["details"] = e.Details
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(e.Code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": inner})
}

// WriteJSON answers v as JSON, with status 200.
func WriteJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

// Request is one HTTP request a fake received, as its Requests method
// returns it.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Body   []byte
}

// Fault is a failure injected into the next requests a test's match
// selects: the HTTP status, and for BigQuery the error's reason.
type Fault struct {
	Status int
	Reason string
	match  func(Request) bool
	skip   int // matching requests served before the failures
	left   int
}

// Log holds the requests a fake received and the failures injected into
// its next ones. It is not safe for concurrent use: the fake's own lock
// guards it, with the state the requests change.
type Log struct {
	requests []Request
	faults   []*Fault
}

// Record adds a request to the log.
func (l *Log) Record(r Request) { l.requests = append(l.requests, r) }

// Requests returns a copy of every request received so far, those answered
// with an error or an injected failure included.
func (l *Log) Requests() []Request {
	out := make([]Request, len(l.requests))
	for i, r := range l.requests {
		var q url.Values
		if r.Query != nil {
			q = url.Values{}
			for k, vs := range r.Query {
				q[k] = append([]string(nil), vs...)
			}
		}
		out[i] = Request{Method: r.Method, Path: r.Path, Query: q, Body: append([]byte(nil), r.Body...)}
	}
	return out
}

// FailNext makes the next n requests for which match returns true (a nil
// match matches every request) fail with status (and reason, for the APIs
// that give one) instead of being served. Faults are consulted in the
// order they were added.
func (l *Log) FailNext(match func(Request) bool, status int, reason string, n int) {
	l.faults = append(l.faults, &Fault{Status: status, Reason: reason, match: match, left: n})
}

// FailAt makes the nth request (counting from 1, from now on) for which
// match returns true fail as FailNext does; the matching requests before it
// are served.
func (l *Log) FailAt(match func(Request) bool, n, status int, reason string) {
	l.faults = append(l.faults, &Fault{Status: status, Reason: reason, match: match, skip: n - 1, left: 1})
}

// Injected returns the first fault that takes r, counting r against it, or
// nil when r is to be served.
func (l *Log) Injected(r Request) *Fault {
	for _, f := range l.faults {
		if f.left == 0 || (f.match != nil && !f.match(r)) {
			continue
		}
		if f.skip > 0 {
			f.skip--
			continue
		}
		f.left--
		return f
	}
	return nil
}
