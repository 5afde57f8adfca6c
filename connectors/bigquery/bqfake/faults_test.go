package bqfake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"

	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
)

func isJobsInsert(r bqfake.Request) bool {
	return r.Method == "POST" && strings.HasSuffix(r.Path, "/jobs") && r.Query.Get("upload_id") == ""
}

// TestFailNextRetries documents what cloud.google.com/go/bigquery v1.86.2
// does with transient errors on jobs.insert:
//
//   - A query job (no media) carries a client-generated job ID, so Query.Run
//     retries jobs.insert itself when the error's reason is backendError,
//     rateLimitExceeded, jobRateLimitExceeded or internalError, or the HTTP
//     status is 500, 502, 503 or 504 — backoff 1 s initial, x2, max 32 s,
//     until the context ends. A 429 whose reason is not in that list (e.g.
//     quotaExceeded) is not retried.
//   - A load job with media (Loader.Run with a ReaderSource) is never
//     retried by the bigquery package ("we don't retry if there is media"),
//     whatever the error: the first error is returned from Run. Only the
//     chunk requests of a resumable upload are retried, by the
//     google.golang.org/api upload code (429, 408 and any 5xx; backoff
//     100 ms initial, for up to 32 s per chunk) — see TestResumableUpload.
//   - Reads (jobs.get, tables.get, tabledata.list, ...) are retried on
//     backendError / rateLimitExceeded reasons and 500/502/503/504.
func TestFailNextRetries(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	seed(t, c, "a", "('2026-09-01', 'Alice', 1)")

	// Query job: 429 rateLimitExceeded then 500 backendError, then success.
	srv.FailNext(isJobsInsert, 429, "rateLimitExceeded", 1)
	srv.FailNext(isJobsInsert, 500, "backendError", 1)
	before := countRequests(srv, "POST", "/jobs", "", "")
	start := time.Now()
	status, err := runQuery(ctx, c, "DELETE FROM `uptake-test.kpis.a` WHERE TRUE")
	if err != nil || status.Err() != nil {
		t.Fatalf("query after transient errors: %v / %v", err, status.Err())
	}
	if n := countRequests(srv, "POST", "/jobs", "", "") - before; n != 3 {
		t.Errorf("jobs.insert attempts = %d, want 3 (two retried failures)", n)
	}
	t.Logf("query job succeeded after 2 client retries in %v", time.Since(start).Round(time.Millisecond))

	// 429 with a reason outside the retry list is returned at once.
	srv.FailNext(isJobsInsert, 429, "quotaExceeded", 1)
	_, err = runQuery(ctx, c, "DELETE FROM `uptake-test.kpis.a` WHERE TRUE")
	if code, reason, _ := apiErr(t, err); code != 429 || reason != "quotaExceeded" {
		t.Errorf("429 quotaExceeded: %d %s", code, reason)
	}

	// Load job with media: the first error is returned from Run, no retry.
	srv.FailNext(func(r bqfake.Request) bool { return r.Query.Get("uploadType") == "multipart" }, 503, "backendError", 1)
	before = countRequests(srv, "POST", "/jobs", "uploadType", "multipart")
	_, err = load(ctx, c.Dataset("kpis").Table("loaded"), writeParquet(t, aliceRow), bigquery.Parquet, kpiSchema, bigquery.WriteTruncate)
	if code, reason, _ := apiErr(t, err); code != 503 || reason != "backendError" {
		t.Errorf("load with 503: %d %s", code, reason)
	}
	if n := countRequests(srv, "POST", "/jobs", "uploadType", "multipart") - before; n != 1 {
		t.Errorf("multipart attempts = %d, want 1", n)
	}
	if _, ok := srv.Table("kpis", "loaded"); ok {
		t.Error("failed upload created the table")
	}
}

// TestFailJob: the job is accepted, then ends DONE with the injected
// errorResult. For a query job, Job.Wait returns it as an error (BigQuery
// reports a failed query through getQueryResults as an HTTP error); for a
// load job, Job.Wait returns a nil error and the status's Err() carries it.
func TestFailJob(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	seed(t, c, "a", "('2026-09-01', 'Alice', 1)")

	srv.FailJob(func(cfg map[string]any) bool {
		q, ok := cfg["query"].(map[string]any)
		return ok && strings.HasPrefix(q["query"].(string), "DELETE")
	}, "stopped", "Job execution was cancelled: injected")
	_, err := runQuery(ctx, c, "DELETE FROM `uptake-test.kpis.a` WHERE TRUE")
	if err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("query job: %v", err)
	}
	if names(t, srv, "a") != "Alice" {
		t.Error("failed job changed the table")
	}

	srv.FailJob(func(cfg map[string]any) bool { _, ok := cfg["load"]; return ok }, "quotaExceeded", "Quota exceeded: too many table update operations")
	status, err := load(ctx, c.Dataset("kpis").Table("a"), writeParquet(t, aliceRow), bigquery.Parquet, kpiSchema, bigquery.WriteTruncate)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	e, ok := status.Err().(*bigquery.Error)
	if !ok || e.Reason != "quotaExceeded" || !strings.Contains(e.Message, "too many table update") {
		t.Errorf("load job error = %#v", status.Err())
	}
	// A query job failed with a reason the client retries makes Job.Wait
	// poll getQueryResults until its context ends (as against BigQuery).
	srv.FailJob(nil, "rateLimitExceeded", "Exceeded rate limits: too many concurrent queries")
	q := c.Query("SELECT COUNT(*) FROM `uptake-test.kpis.a` WHERE TRUE")
	job, err := q.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	if _, err := job.Wait(short); err == nil {
		t.Error("Wait on a rateLimitExceeded query job returned nil")
	}
	if n := countRequests(srv, "GET", "/queries/"+job.ID(), "", ""); n < 2 {
		t.Errorf("getQueryResults polls = %d, want several", n)
	}
	if js, err := job.Status(ctx); err != nil || js.Err() == nil || js.Err().(*bigquery.Error).Reason != "rateLimitExceeded" {
		t.Errorf("Status: %v / %v", js, err)
	}

	// The rules were consumed: the next load succeeds.
	status, err = load(ctx, c.Dataset("kpis").Table("b"), writeParquet(t, aliceRow), bigquery.Parquet, kpiSchema, bigquery.WriteTruncate)
	if err != nil || status.Err() != nil {
		t.Errorf("next load: %v / %v", err, status.Err())
	}
}
