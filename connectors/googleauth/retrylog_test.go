package googleauth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/googleapi"

	"github.com/uptake-dev/uptake/connectors/backoff"
)

// A retry after a 503, a retry after a refused connection and a first try
// after a success: two WARN lines, each naming what the previous attempt
// got, the attempt and the wait; the client still reads Google's body.
func TestRetryLoggerLogsEachRetryOnce(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}}`)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	var buf bytes.Buffer
	ctx := backoff.WithLogger(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)))
	client := &http.Client{Transport: newRetryLogger("sheets", http.DefaultTransport)}
	get := func(url string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), nil
	}
	if body, _ := get(srv.URL + "/v4/spreadsheets/x"); !strings.Contains(body, "currently unavailable") {
		t.Errorf("the client lost Google's error body: %q", body)
	}
	if body, _ := get(srv.URL + "/v4/spreadsheets/x"); body != "ok" {
		t.Errorf("retry: %q", body)
	}
	if _, err := get(srv.URL + "/v4/spreadsheets/x"); err != nil { // not a retry: the last one succeeded
		t.Fatal(err)
	}
	// A refused connection, then its retry.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + l.Addr().String()
	l.Close()
	get(refused + "/v1beta/properties/1:runReport")
	get(refused + "/v1beta/properties/1:runReport")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), buf.String())
	}
	for _, want := range []string{"level=WARN", "service=sheets", `call="GET /v4/spreadsheets/x"`, `status="503 Service Unavailable: The service is currently unavailable."`, "attempt=2", "wait="} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("line %q lacks %s", lines[0], want)
		}
	}
	for _, want := range []string{"no answer", "connection was refused", "attempt=2"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("line %q lacks %s", lines[1], want)
		}
	}
}

// A call that fails and is given up is not the retry of the next call of
// the same method and path made outside its backoff (a cleanup): no line.
func TestAnotherCallAfterAGiveUpIsNotARetry(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var buf bytes.Buffer
	ctx := backoff.WithLogger(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)))
	client := &http.Client{Transport: newRetryLogger("sheets", http.DefaultTransport)}
	post := func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v4/spreadsheets/x:batchUpdate", nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return googleapi.CheckResponse(resp)
	}
	p := backoff.Policy{Service: "sheets", LoggedByTransport: true, Base: time.Millisecond, Max: time.Millisecond, Attempts: 3}
	p.Do(ctx, "batchUpdate", func(error) bool { return true }, post) // 3 attempts: 2 retries
	post(context.WithoutCancel(ctx))                                 // the cleanup, outside the backoff
	if n := strings.Count(buf.String(), "level=WARN"); n != 2 || strings.Contains(buf.String(), "attempt=4") {
		t.Errorf("%d lines, want the 2 retries only:\n%s", n, buf.String())
	}
}

// A call that keeps failing is given up after MaxAttempts attempts, even
// by a client that would retry it for ever: the transport answers the next
// attempt with an error of its own.
func TestACallIsGivenUpAfterMaxAttempts(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + l.Addr().String() + "/bigquery/v2/projects/p/jobs"
	l.Close()
	var buf bytes.Buffer
	ctx := backoff.WithLogger(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)))
	client := &http.Client{Transport: newRetryLogger("bigquery", http.DefaultTransport)}
	var err error
	tries := 0
	for ; tries < 100; tries++ { // a client that never gives up
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, refused, nil)
		if _, err = client.Do(req); err != nil && errors.Is(err, backoff.ErrGaveUp) {
			break
		}
	}
	if tries != MaxAttempts || !strings.Contains(err.Error(), "given up after 8 attempts, the last: no answer: the connection was refused") {
		t.Errorf("after %d tries: %v", tries, err)
	}
	if n := strings.Count(buf.String(), "level=WARN"); n != MaxAttempts-1 {
		t.Errorf("%d retry lines, want %d", n, MaxAttempts-1)
	}
}
