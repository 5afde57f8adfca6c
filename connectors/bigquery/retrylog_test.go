package bigquery

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
)

// Every failed attempt the publish retries, whoever retries it (our policy
// or the client library), is one WARN line naming bigquery, the status and
// the attempt.
func TestEveryRetryIsAWarnLine(t *testing.T) {
	cases := []struct {
		name   string
		status int
		match  func(bqfake.Request) bool
	}{
		{"dataset read", http.StatusTooManyRequests, func(r bqfake.Request) bool {
			return r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/datasets/kpis")
		}},
		{"upload", http.StatusServiceUnavailable, func(r bqfake.Request) bool { return strings.HasPrefix(r.Path, "/upload/") }},
		{"query job insert", http.StatusTooManyRequests, func(r bqfake.Request) bool {
			return r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/jobs") && strings.Contains(string(r.Body), "BEGIN TRANSACTION")
		}},
		{"job status", http.StatusInternalServerError, func(r bqfake.Request) bool { return r.Method == http.MethodGet && strings.Contains(r.Path, "/jobs/") }},
		{"count query", http.StatusServiceUnavailable, func(r bqfake.Request) bool { return strings.Contains(r.Path, "/queries") }},
	}
	for _, c := range cases {
		status := c.status
		t.Run(c.name, func(t *testing.T) {
			fake := bqfake.New(t, "my-project")
			// Through the endpoint setting: the client uptake builds, with its transport.
			d := newDest(t, "project: my-project\ndataset: kpis\nlocation: EU\nendpoint: "+fake.URL()+"\n")
			d.backoff = backoff.Default.For("bigquery")
			d.backoff.Base, d.backoff.Max = time.Millisecond, time.Millisecond
			var buf bytes.Buffer
			ctx := backoff.WithLogger(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)))
			run, out := publishedIn("r1")
			if err := connectors.Publish(ctx, d, warehouseWith(t, twoMonths), run, out); err != nil {
				t.Fatal(err)
			}
			reason := "rateLimitExceeded"
			if status >= 500 {
				reason = "backendError"
			}
			fake.FailNext(c.match, status, reason, 2)
			run, out = publishedIn("r2")
			buf.Reset()
			if err := connectors.Publish(ctx, d, warehouseWith(t, twoMonths), run, out); err != nil {
				t.Fatal(err)
			}
			got := strings.Count(buf.String(), "level=WARN")
			if got != 2 || !strings.Contains(buf.String(), "service=bigquery") || !strings.Contains(buf.String(), "attempt=3") ||
				!strings.Contains(buf.String(), "status=\""+strconv.Itoa(status)) || !strings.Contains(buf.String(), "wait=") {
				t.Errorf("%d WARN lines for 2 failed attempts:\n%s", got, buf.String())
			}
		})
	}
}
