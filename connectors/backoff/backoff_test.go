package backoff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/googleapi"
)

var errTransient = errors.New("transient")

func retryTransient(err error) bool { return errors.Is(err, errTransient) }

func TestRetriesUntilSuccess(t *testing.T) {
	calls := 0
	err := Policy{Base: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 5}.Do(context.Background(), "x", retryTransient, func(ctx context.Context) error {
		calls++
		if calls < 3 {
			return errTransient
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("err %v after %d calls, want success after 3", err, calls)
	}
}

func TestStopsOnPermanentErrorsAndAfterAttempts(t *testing.T) {
	calls := 0
	err := Policy{Base: time.Millisecond, Max: time.Millisecond, Attempts: 5}.Do(context.Background(), "load", retryTransient, func(ctx context.Context) error {
		calls++
		return errors.New("bad request")
	})
	if calls != 1 || err == nil || err.Error() != "load: bad request" {
		t.Errorf("permanent: %d calls, %v", calls, err)
	}
	calls = 0
	err = Policy{Base: time.Millisecond, Max: time.Millisecond, Attempts: 3}.Do(context.Background(), "load", retryTransient, func(ctx context.Context) error {
		calls++
		return errTransient
	})
	if calls != 3 || !errors.Is(err, errTransient) {
		t.Errorf("transient: %d calls, %v", calls, err)
	}
}

func TestHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Policy{Base: time.Hour, Max: time.Hour, Attempts: 5}.Do(ctx, "load", retryTransient, func(ctx context.Context) error {
		calls++
		cancel()
		return errTransient
	})
	if calls != 1 || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "transient") {
		t.Errorf("%d calls, %v", calls, err)
	}
}

// Each retry is one WARN line naming the service, the call, the status (or
// that no answer came), the attempt and the wait; the last failure, which
// is returned rather than retried, is not logged as a retry.
func TestEveryRetryIsLoggedAtWarn(t *testing.T) {
	var buf bytes.Buffer
	ctx := WithLogger(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
	calls := 0
	p := Policy{Service: "sheets", Base: time.Millisecond, Max: time.Millisecond, Attempts: 3}
	err := p.Do(ctx, "batchUpdate", func(error) bool { return true }, func(ctx context.Context) error {
		calls++
		if calls == 1 {
			return &googleapi.Error{Code: 429, Message: "quota"}
		}
		return &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	})
	if err == nil || calls != 3 {
		t.Fatalf("%d calls, %v", calls, err)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("want 2 retry lines (attempts 2 and 3 of 3), got %d:\n%s", len(lines), buf.String())
	}
	want := []struct{ status, errPart string }{{"429", "quota"}, {"no answer", "connection refused"}}
	for i, l := range lines {
		if l["level"] != "WARN" || l["service"] != "sheets" || l["call"] != "batchUpdate" || l["status"] != want[i].status ||
			l["attempt"] != float64(i+2) || l["attempts"] != float64(3) || l["wait"] == nil ||
			!strings.Contains(fmt.Sprint(l["error"]), want[i].errPart) {
			t.Errorf("line %d: %v", i+1, l)
		}
	}
}

// Under LoggedByTransport, a failure the transport never saw (a job that
// ended in backendError inside a 200 answer) is still logged; an HTTP 503
// the transport logged is not logged twice.
func TestFailuresTheTransportDidNotSeeAreLogged(t *testing.T) {
	var buf bytes.Buffer
	ctx := WithLogger(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)))
	p := Policy{Service: "bigquery", LoggedByTransport: true, Base: time.Millisecond, Max: time.Millisecond, Attempts: 2}
	p.Do(ctx, "load", func(error) bool { return true }, func(context.Context) error { return errors.New("job failed: backendError") })
	p.Do(ctx, "load", func(error) bool { return true }, func(context.Context) error {
		return &googleapi.Error{Code: 503, Header: http.Header{}}
	})
	if n := strings.Count(buf.String(), "level=WARN"); n != 1 || !strings.Contains(buf.String(), "backendError") {
		t.Errorf("%d lines:\n%s", n, buf.String())
	}
}
