package googlefake

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/api/googleapi"
)

// TestErrorsReadAsGoogleAPIErrors: the envelope Write answers is what the
// generated clients read into a *googleapi.Error: the code, the message,
// BigQuery's reason, Sheets' details.
func TestErrorsReadAsGoogleAPIErrors(t *testing.T) {
	for _, e := range []*Error{
		{Code: 404, Status: "NOT_FOUND", Message: "Not found: Table p:d.t", Reason: "notFound"},
		{Code: 429, Status: "RESOURCE_EXHAUSTED", Message: "Quota exceeded", Details: []map[string]any{{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED"}}},
	} {
		rec := httptest.NewRecorder()
		e.Write(rec)
		err := googleapi.CheckResponse(rec.Result())
		var ge *googleapi.Error
		if !errors.As(err, &ge) {
			t.Fatalf("%v: not a *googleapi.Error: %v", e, err)
		}
		if ge.Code != e.Code || ge.Message != e.Message {
			t.Errorf("%v: read back as %d %q", e, ge.Code, ge.Message)
		}
		if e.Reason != "" && (len(ge.Errors) != 1 || ge.Errors[0].Reason != e.Reason) {
			t.Errorf("%v: reasons read back %v", e, ge.Errors)
		}
		if len(e.Details) != len(ge.Details) {
			t.Errorf("%v: details read back %v", e, ge.Details)
		}
	}
	if got := (&Error{Code: 400, Status: "INVALID_ARGUMENT", Message: "bad"}).Error(); got != "400 INVALID_ARGUMENT: bad" {
		t.Errorf("Error() = %q", got)
	}
}

// TestFaultsTakeTheirRequestsInOrder: a fault takes the next n requests it
// matches, faults are consulted in the order added, and the log keeps every
// request, a copy each time it is read.
func TestFaultsTakeTheirRequestsInOrder(t *testing.T) {
	var l Log
	l.FailNext(func(r Request) bool { return r.Method == http.MethodPost }, 503, "", 2)
	l.FailNext(nil, 429, "rateLimitExceeded", 1)
	var got []int
	for _, m := range []string{"GET", "POST", "POST", "POST", "GET"} {
		r := Request{Method: m, Path: "/x", Body: []byte("b")}
		l.Record(r)
		status := 200
		if f := l.Injected(r); f != nil {
			status = f.Status
		}
		got = append(got, status)
	}
	// GET: the POST fault passes it, the catch-all takes it (429). Then
	// two POSTs (503), a third served, and the catch-all is spent.
	want := []int{429, 503, 503, 200, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
	// The third write fails, the two before it are served.
	l.FailAt(func(r Request) bool { return r.Method == http.MethodPut }, 3, 500, "")
	var puts []bool
	for range 4 {
		puts = append(puts, l.Injected(Request{Method: http.MethodPut}) != nil)
	}
	if puts[0] || puts[1] || !puts[2] || puts[3] {
		t.Errorf("FailAt 3: failed %v", puts)
	}
	reqs := l.Requests()
	reqs[0].Body[0] = 'X'
	if len(reqs) != 5 || string(l.Requests()[0].Body) != "b" {
		t.Errorf("requests %d, first body %q after a change to a copy", len(reqs), l.Requests()[0].Body)
	}
}
