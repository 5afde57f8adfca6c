package googleauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/uptake-dev/uptake/connectors/backoff"
)

// retryLogger is an HTTP transport that logs, at WARN, every retry of a
// call to a Google API, whoever retries it: uptake's own backoff or the
// client library's (the BigQuery client retries 429 and 5xx by itself, in
// silence). A request is a retry when the previous request of the same
// method and path failed (429, 5xx or no answer) shortly before; the line
// names the service, the call, what the previous attempt got, this
// attempt's number and the wait between the two.
type retryLogger struct {
	service string
	next    http.RoundTripper
	now     func() time.Time

	mu     sync.Mutex
	failed map[string]failure // by "METHOD /path"
}

type failure struct {
	// call is the backoff.Do the failed request belonged to (nil: none):
	// a retry, by uptake's backoff or by the client library within it, is
	// made in the same Do; another call (a cleanup after giving up) is not.
	call    any
	at      time.Time
	got     string // status and Google's message, or the transport error
	attempt int
}

// MaxAttempts bounds the attempts of one call, whoever retries it: the
// BigQuery client retries a refused connection or a 5xx by itself for as
// long as its context lives, which would hang a nightly run on a service
// that is down. Past it, the transport answers with an error no client
// retries.
const MaxAttempts = 8

// retryWindow bounds how long after a failure a new request of the same
// call counts as its retry (uptake's longest backoff wait is 64 s).
const retryWindow = 5 * time.Minute

func newRetryLogger(service string, next http.RoundTripper) *retryLogger {
	return &retryLogger{service: service, next: next, now: time.Now, failed: map[string]failure{}}
}

// RoundTrip sends the request, logging it first when it retries a failed one.
func (t *retryLogger) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Method + " " + req.URL.Path
	t.mu.Lock()
	prev, retry := t.failed[key]
	t.mu.Unlock()
	start := t.now()
	retry = retry && prev.call == backoff.CallOf(req.Context()) && start.Sub(prev.at) < retryWindow
	attempt := 1
	if retry && prev.attempt >= MaxAttempts {
		t.mu.Lock()
		delete(t.failed, key)
		t.mu.Unlock()
		return nil, fmt.Errorf("%s %s: %w after %d attempts, the last: %s", t.service, key, backoff.ErrGaveUp, prev.attempt, prev.got)
	}
	if retry {
		attempt = prev.attempt + 1
		backoff.Logger(req.Context()).Warn("retrying a failed call", "service", t.service, "call", key, "status", prev.got,
			"attempt", attempt, "wait", start.Sub(prev.at).Round(time.Millisecond).String())
	}
	resp, err := t.next.RoundTrip(req)
	got := ""
	switch {
	case err != nil && req.Context().Err() == nil:
		got = noAnswer(err)
	case err == nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500):
		got = resp.Status + googleMessage(resp)
	}
	t.mu.Lock()
	if got != "" {
		t.failed[key] = failure{call: backoff.CallOf(req.Context()), at: t.now(), got: got, attempt: attempt}
	} else {
		delete(t.failed, key)
	}
	t.mu.Unlock()
	return resp, err
}

// googleMessage reads Google's JSON error message from a failed response
// (": Quota exceeded ..."), leaving the body readable for the client.
func googleMessage(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
	if err != nil {
		return ""
	}
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
		return ""
	}
	return fmt.Sprintf(": %s", e.Error.Message)
}

// noAnswer describes a request that got no answer. Its words must not
// match the phrases the Google client libraries retry on ("connection
// refused", "connection reset", "broken pipe"), since it ends up in the
// error that gives a call up.
func noAnswer(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "connection refused"):
		return "no answer: the connection was refused (" + hostOf(msg) + ")"
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "broken pipe"), strings.Contains(msg, "EOF"):
		return "no answer: the connection was cut"
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return "no answer: timed out"
	}
	return "no answer: " + msg
}

// hostOf picks the address out of a dial error ("dial tcp 1.2.3.4:443: ...").
func hostOf(msg string) string {
	if _, rest, ok := strings.Cut(msg, "dial tcp "); ok {
		if host, _, ok := strings.Cut(rest, ": "); ok {
			return host
		}
	}
	return "unknown address"
}
