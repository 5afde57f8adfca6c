package schedule

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// harness drives a Scheduler on a fake clock. Each run reports its start
// time on fired and returns the next queued result (nil: success).
type harness struct {
	t      *testing.T
	clock  *clockwork.FakeClock
	s      *Scheduler
	fired  chan time.Time
	result chan error
	stop   context.CancelFunc
	done   chan struct{}
}

func newHarness(t *testing.T, start time.Time, history map[string]LastRun, jobs ...Job) *harness {
	t.Helper()
	h := &harness{t: t, clock: clockwork.NewFakeClockAt(start), fired: make(chan time.Time), result: make(chan error), done: make(chan struct{})}
	run := func(ctx context.Context, job string, attempt, attempts int) (Outcome, error) {
		h.fired <- h.clock.Now()
		err := <-h.result
		return Outcome{RunID: "run-" + job, RowsOut: map[string]int64{"kpi_daily": 30, "customer_monthly": 12}}, err
	}
	s, err := New(Options{Jobs: jobs, Run: run, Clock: h.clock, History: history,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), OverdueAfter: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	go func() { s.Start(ctx); close(h.done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("the scheduler did not stop")
		}
	})
	return h
}

// advance waits for the scheduler to sleep, then moves the clock by d.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.clock.BlockUntilContext(ctx, 1); err != nil {
		h.t.Fatalf("the scheduler never slept: %v", err)
	}
	h.clock.Advance(d)
}

// advanceTo advances to the instant at.
func (h *harness) advanceTo(at time.Time) { h.advance(at.Sub(h.clock.Now())) }

// expectRun waits for a run to start and checks when, then ends it with err.
func (h *harness) expectRun(want time.Time, err error) {
	h.t.Helper()
	select {
	case got := <-h.fired:
		if !got.Equal(want) {
			h.t.Fatalf("run fired at %s, want %s", got.UTC().Format(time.RFC3339), want.UTC().Format(time.RFC3339))
		}
	case <-time.After(5 * time.Second):
		h.t.Fatalf("no run fired, want one at %s", want.UTC().Format(time.RFC3339))
	}
	h.result <- err
}

// expectNoRun checks that no run starts before the scheduler sleeps again.
func (h *harness) expectNoRun() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.clock.BlockUntilContext(ctx, 1); err != nil {
		h.t.Fatal(err)
	}
	select {
	case got := <-h.fired:
		h.t.Fatalf("unexpected run at %s", got.UTC().Format(time.RFC3339))
	default:
	}
}

func job(t *testing.T, name, expr string, loc *time.Location, retries int) Job {
	return Job{Name: name, Cron: mustCron(t, expr, loc), Retries: retries, RetryDelay: time.Minute}
}

// The nightly job at 02:30 Paris time, from Friday 27 March to Tuesday 31
// March 2026 (spring forward on the 29th) and around 25 October (fall back).
func TestSchedulerFiresAcrossDST(t *testing.T) {
	loc := paris(t)
	h := newHarness(t, utc("2026-03-27T12:00:00Z"), nil, job(t, "nightly", "30 2 * * *", loc, 0))
	for _, at := range []string{
		"2026-03-28T01:30:00Z", // 02:30 CET
		"2026-03-29T01:00:00Z", // 02:30 does not exist: 03:00 CEST, the end of the gap
		"2026-03-30T00:30:00Z", // 02:30 CEST
	} {
		h.advanceTo(utc(at))
		h.expectRun(utc(at), nil)
	}

	h2 := newHarness(t, utc("2026-10-24T12:00:00Z"), nil, job(t, "nightly", "30 2 * * *", loc, 0))
	h2.advanceTo(utc("2026-10-25T00:30:00Z")) // 02:30 CEST
	h2.expectRun(utc("2026-10-25T00:30:00Z"), nil)
	h2.advanceTo(utc("2026-10-25T01:30:00Z")) // 02:30 CET, the same wall time again: no run
	h2.expectNoRun()
	h2.advanceTo(utc("2026-10-26T01:30:00Z")) // 02:30 CET on Monday
	h2.expectRun(utc("2026-10-26T01:30:00Z"), nil)
}

func TestSchedulerRetriesWithBackoff(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:00Z"), nil, job(t, "nightly", "0 2 * * *", time.UTC, 2))
	boom := errors.New("export missing")
	h.advanceTo(utc("2026-05-01T02:00:00Z"))
	h.expectRun(utc("2026-05-01T02:00:00Z"), boom)
	h.advance(time.Minute) // first retry after RetryDelay
	h.expectRun(utc("2026-05-01T02:01:00Z"), boom)
	h.advance(2 * time.Minute) // then twice as long
	h.expectRun(utc("2026-05-01T02:03:00Z"), nil)
	if got := h.s.Health(h.clock.Now()); !got.Healthy {
		t.Fatalf("healthy after a retry succeeded: %+v", got)
	}

	// Retries exhausted: one failed run, unhealthy until a success.
	h.advanceTo(utc("2026-05-02T02:00:00Z"))
	h.expectRun(utc("2026-05-02T02:00:00Z"), boom)
	h.advance(time.Minute)
	h.expectRun(utc("2026-05-02T02:01:00Z"), boom)
	h.advance(2 * time.Minute)
	h.expectRun(utc("2026-05-02T02:03:00Z"), boom)
	h.expectNoRun()
	got := h.s.Health(h.clock.Now())
	if got.Healthy || got.Jobs[0].Problem != "the last run failed" || got.Jobs[0].LastError != "export missing" {
		t.Fatalf("health after the retries failed: %+v", got)
	}
	h.advanceTo(utc("2026-05-03T02:00:00Z"))
	h.expectRun(utc("2026-05-03T02:00:00Z"), nil)
	h.expectNoRun()
	if got := h.s.Health(h.clock.Now()); !got.Healthy {
		t.Fatalf("still unhealthy after a success: %+v", got)
	}
}

// Down from 2 to 5 May: the run missed is caught up once at start, not
// once per missed night; then the schedule goes on.
func TestSchedulerCatchesUpOnce(t *testing.T) {
	history := map[string]LastRun{"nightly": {Started: utc("2026-05-02T02:00:00Z"), Ended: utc("2026-05-02T02:10:00Z"), Success: true}}
	h := newHarness(t, utc("2026-05-05T09:00:00Z"), history, job(t, "nightly", "0 2 * * *", time.UTC, 0))
	h.expectRun(utc("2026-05-05T09:00:00Z"), nil)
	h.expectNoRun()
	h.advanceTo(utc("2026-05-06T02:00:00Z"))
	h.expectRun(utc("2026-05-06T02:00:00Z"), nil)

	// The last run was stopped by SIGTERM (a deploy) after its tick: it is
	// caught up at start, and it is no failure.
	stopped := map[string]LastRun{"nightly": {Started: utc("2026-05-05T02:00:00Z"), Ended: utc("2026-05-05T02:03:00Z"), Interrupted: true}}
	h3 := newHarness(t, utc("2026-05-05T09:00:00Z"), stopped, job(t, "nightly", "0 2 * * *", time.UTC, 0))
	if got := h3.s.Health(utc("2026-05-05T09:00:00Z")); got.Jobs[0].Problem == "the last run failed" {
		t.Errorf("a stopped run counts as a failure: %+v", got)
	}
	h3.expectRun(utc("2026-05-05T09:00:00Z"), nil)
	h3.expectNoRun()
	if got := h3.s.Health(h3.clock.Now()); !got.Healthy {
		t.Errorf("unhealthy after the catch-up succeeded: %+v", got)
	}

	// History up to date: no catch-up.
	recent := map[string]LastRun{"nightly": {Started: utc("2026-05-05T02:00:00Z"), Ended: utc("2026-05-05T02:10:00Z"), Success: true}}
	h2 := newHarness(t, utc("2026-05-05T09:00:00Z"), recent, job(t, "nightly", "0 2 * * *", time.UTC, 0))
	h2.expectNoRun()
	h2.advanceTo(utc("2026-05-06T02:00:00Z"))
	h2.expectRun(utc("2026-05-06T02:00:00Z"), nil)
}

// A run that outlasts several ticks of another job: that job fires once
// after it, not once per missed tick.
func TestSchedulerCoalescesMissedTicks(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:00Z"), nil,
		job(t, "nightly", "0 2 * * *", time.UTC, 0), job(t, "hourly", "0 * * * *", time.UTC, 0))
	h.advanceTo(utc("2026-05-01T01:00:00Z"))
	h.expectRun(utc("2026-05-01T01:00:00Z"), nil) // hourly
	h.advanceTo(utc("2026-05-01T02:00:00Z"))
	// Both are due at 02:00; they run one after the other. The first takes
	// three hours.
	select {
	case <-h.fired:
	case <-time.After(5 * time.Second):
		t.Fatal("no run at 02:00")
	}
	h.clock.Advance(3 * time.Hour)
	h.result <- nil
	h.expectRun(utc("2026-05-01T05:00:00Z"), nil) // the other one, once
	h.expectNoRun()
	h.advanceTo(utc("2026-05-01T06:00:00Z"))
	h.expectRun(utc("2026-05-01T06:00:00Z"), nil) // hourly again
}

func TestHealthOverdue(t *testing.T) {
	history := map[string]LastRun{"nightly": {Started: utc("2026-05-04T02:00:00Z"), Ended: utc("2026-05-04T02:10:00Z"), Success: true}}
	s, err := New(Options{Jobs: []Job{job(t, "nightly", "0 2 * * *", time.UTC, 0)},
		Run:   func(context.Context, string, int, int) (Outcome, error) { return Outcome{}, nil },
		Clock: clockwork.NewFakeClockAt(utc("2026-05-05T01:00:00Z")), History: history, OverdueAfter: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for at, want := range map[string]bool{
		"2026-05-05T01:00:00Z": true,  // the 4 May run is the last one due
		"2026-05-05T03:59:00Z": true,  // 5 May 02:00 is due, within its two hours
		"2026-05-05T04:01:00Z": false, // two hours past 02:00 with no run
	} {
		if got := s.Health(utc(at)); got.Healthy != want {
			t.Errorf("at %s healthy = %v, want %v (%+v)", at, got.Healthy, want, got)
		}
	}
	if p := s.Health(utc("2026-05-05T04:01:00Z")).Jobs[0].Problem; p != "overdue: no successful run since 2026-05-05T02:00:00Z" {
		t.Errorf("problem = %q", p)
	}
}

// After a restart, /metrics says what history says of the last run.
func TestMetricsFromHistory(t *testing.T) {
	history := map[string]LastRun{"nightly": {Started: utc("2026-05-04T02:00:00Z"), Ended: utc("2026-05-04T02:00:30Z"), Error: "export missing"}}
	h := newHarness(t, utc("2026-05-04T09:00:00Z"), history, job(t, "nightly", "0 2 * * *", time.UTC, 0))
	srv := httptest.NewServer(h.s.Handler())
	defer srv.Close()
	h.expectNoRun()
	code, _ := get(t, srv.URL+"/healthz")
	_, m := get(t, srv.URL+"/metrics")
	for _, want := range []string{`uptake_last_run_success{job="nightly"} 0`, `uptake_consecutive_failures{job="nightly"} 1`,
		`uptake_last_run_duration_seconds{job="nightly"} 30`, `uptake_healthy 0`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code != 503 {
		t.Errorf("healthz = %d after a failed last run", code)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:00Z"), nil, job(t, "nightly", "0 2 * * *", time.UTC, 0))
	srv := httptest.NewServer(h.s.Handler())
	defer srv.Close()

	h.advanceTo(utc("2026-05-01T02:00:00Z"))
	select {
	case <-h.fired:
	case <-time.After(5 * time.Second):
		t.Fatal("no run")
	}
	h.clock.Advance(90 * time.Second) // the run takes a minute and a half
	h.result <- nil
	h.expectNoRun()
	code, body := get(t, srv.URL+"/healthz")
	if code != 200 || !strings.Contains(body, `"healthy": true`) || !strings.Contains(body, `"last_run_id": "run-nightly"`) ||
		!strings.Contains(body, `"next_run": "2026-05-02T02:00:00Z"`) {
		t.Fatalf("healthz after a success: %d %s", code, body)
	}
	_, metrics := get(t, srv.URL+"/metrics")
	for _, want := range []string{
		`uptake_last_success_timestamp_seconds{job="nightly"} 1.77760089e+09`, // 2026-05-01T02:01:30Z = 1777600890
		`uptake_last_run_duration_seconds{job="nightly"} 90`,
		`uptake_rows_published{job="nightly",table="customer_monthly"} 12`,
		`uptake_rows_published{job="nightly",table="kpi_daily"} 30`,
		`uptake_runs_total{job="nightly",status="success"} 1`,
		`uptake_runs_total{job="nightly",status="failed"} 0`,
		`uptake_run_failures_total{job="nightly"} 0`,
		`uptake_last_run_success{job="nightly"} 1`,
		`uptake_healthy 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	h.advanceTo(utc("2026-05-02T02:00:00Z"))
	h.expectRun(utc("2026-05-02T02:00:00Z"), errors.New("destination bq: permission denied"))
	h.expectNoRun()
	code, body = get(t, srv.URL+"/healthz")
	if code != 503 || !strings.Contains(body, `"problem": "the last run failed"`) || !strings.Contains(body, `"last_error": "destination bq: permission denied"`) {
		t.Fatalf("healthz after a failure: %d %s", code, body)
	}
	_, metrics = get(t, srv.URL+"/metrics")
	for _, want := range []string{
		`uptake_last_success_timestamp_seconds{job="nightly"} 1.77760089e+09`, // unchanged
		`uptake_runs_total{job="nightly",status="failed"} 1`,
		`uptake_run_failures_total{job="nightly"} 1`,
		`uptake_consecutive_failures{job="nightly"} 1`,
		`uptake_last_run_success{job="nightly"} 0`,
		`uptake_rows_published{job="nightly",table="kpi_daily"} 30`, // the last successful run's
		`uptake_healthy 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics after a failure lack %q", want)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
