package schedule

import (
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the scheduler's Prometheus series, in a registry of its own.
type metrics struct {
	registry    *prometheus.Registry
	lastSuccess *prometheus.GaugeVec
	lastEnd     *prometheus.GaugeVec
	duration    *prometheus.GaugeVec
	lastOK      *prometheus.GaugeVec
	runs        *prometheus.CounterVec
	failures    *prometheus.CounterVec
	consecutive *prometheus.GaugeVec
	rows        *prometheus.GaugeVec
	inProgress  *prometheus.GaugeVec
}

func newMetrics(s *Scheduler) *metrics {
	job := []string{"job"}
	m := &metrics{
		registry: prometheus.NewRegistry(),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "uptake_last_success_timestamp_seconds",
			Help: "When the job's last successful run ended (Unix time)."}, job),
		lastEnd: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "uptake_last_run_timestamp_seconds",
			Help: "When the job's last run ended, successful or not (Unix time)."}, job),
		duration: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "uptake_last_run_duration_seconds",
			Help: "How long the job's last run took, retries included."}, job),
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "uptake_last_run_success",
			Help: "1 when the job's last run succeeded, 0 when it failed."}, job),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "uptake_runs_total",
			Help: "Runs ended since the scheduler started, by status (success or failed)."}, []string{"job", "status"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "uptake_run_failures_total",
			Help: "Runs that failed after their retries since the scheduler started."}, job),
		consecutive: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "uptake_consecutive_failures",
			Help: "Failed runs in a row (0 after a success)."}, job),
		rows: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "uptake_rows_published",
			Help: "Rows the job's last successful run published, per table."}, []string{"job", "table"}),
		inProgress: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "uptake_run_in_progress",
			Help: "1 while a run of the job is in progress."}, job),
	}
	next := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "uptake_healthy",
		Help: "1 when /healthz answers 200: no job's last run failed and none is overdue."},
		func() float64 {
			if s.Health(s.clock.Now()).Healthy {
				return 1
			}
			return 0
		})
	m.registry.MustRegister(m.lastSuccess, m.lastEnd, m.duration, m.lastOK, m.runs, m.failures, m.consecutive, m.rows,
		m.inProgress, next, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, j := range s.jobs {
		for _, status := range []string{"success", "failed"} {
			m.runs.WithLabelValues(j.Name, status)
		}
		m.failures.WithLabelValues(j.Name)
		m.consecutive.WithLabelValues(j.Name)
		m.inProgress.WithLabelValues(j.Name)
	}
	return m
}

// fromHistory sets a job's series from its last run before the process
// started, so that /metrics agrees with /healthz from the start.
func (m *metrics) fromHistory(job string, h LastRun) {
	if h.Ended.IsZero() || h.Interrupted {
		return
	}
	m.lastEnd.WithLabelValues(job).Set(float64(h.Ended.Unix()))
	m.duration.WithLabelValues(job).Set(h.Ended.Sub(h.Started).Seconds())
	if h.Success {
		m.lastOK.WithLabelValues(job).Set(1)
		m.lastSuccess.WithLabelValues(job).Set(float64(h.Ended.Unix()))
		return
	}
	m.lastOK.WithLabelValues(job).Set(0)
	m.consecutive.WithLabelValues(job).Set(1) // at least: history is not read further back
}

func (m *metrics) recordRun(job string, ok bool, end time.Time, d time.Duration, rows map[string]int64) {
	m.inProgress.WithLabelValues(job).Set(0)
	m.lastEnd.WithLabelValues(job).Set(float64(end.Unix()))
	m.duration.WithLabelValues(job).Set(d.Seconds())
	if !ok {
		m.lastOK.WithLabelValues(job).Set(0)
		m.runs.WithLabelValues(job, "failed").Inc()
		m.failures.WithLabelValues(job).Inc()
		m.consecutive.WithLabelValues(job).Inc()
		return
	}
	m.lastOK.WithLabelValues(job).Set(1)
	m.runs.WithLabelValues(job, "success").Inc()
	m.consecutive.WithLabelValues(job).Set(0)
	m.lastSuccess.WithLabelValues(job).Set(float64(end.Unix()))
	m.rows.DeletePartialMatch(prometheus.Labels{"job": job}) // a table no longer published leaves no stale series
	for table, n := range rows {
		m.rows.WithLabelValues(job, table).Set(float64(n))
	}
}

// Health is the scheduler's state as /healthz reports it.
type Health struct {
	Healthy bool        `json:"healthy"`
	Jobs    []JobHealth `json:"jobs"`
}

// JobHealth is one job's part of Health.
type JobHealth struct {
	Job         string     `json:"job"`
	Healthy     bool       `json:"healthy"`
	Problem     string     `json:"problem,omitempty"`
	Running     bool       `json:"running"`
	Next        time.Time  `json:"next_run"`
	LastRunID   string     `json:"last_run_id,omitempty"`
	LastEnd     *time.Time `json:"last_run_ended,omitempty"`
	LastSuccess *time.Time `json:"last_success,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
}

// Health says whether every job's last run succeeded and none is overdue at
// now: a tick passed more than OverdueAfter ago with no successful run
// since.
func (s *Scheduler) Health(now time.Time) Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := Health{Healthy: true}
	for _, j := range s.jobs {
		st := s.state[j.Name]
		jh := JobHealth{Job: j.Name, Healthy: true, Running: st.running, Next: st.next, LastRunID: st.lastRunID, LastError: st.lastError}
		if !st.lastEnd.IsZero() {
			jh.LastEnd = ptr(st.lastEnd)
		}
		if !st.lastSuccess.IsZero() {
			jh.LastSuccess = ptr(st.lastSuccess)
		}
		tick := j.Cron.Prev(now.Add(-s.overdue))
		switch {
		case st.lastFailed:
			jh.Healthy, jh.Problem = false, "the last run failed"
		case !tick.IsZero() && !tick.Before(st.baseline) && st.lastSuccess.Before(tick):
			jh.Healthy, jh.Problem = false, "overdue: no successful run since "+tick.Format(time.RFC3339)
		}
		h.Healthy = h.Healthy && jh.Healthy
		h.Jobs = append(h.Jobs, jh)
	}
	sort.Slice(h.Jobs, func(a, b int) bool { return h.Jobs[a].Job < h.Jobs[b].Job })
	return h
}

func ptr[T any](v T) *T { return &v }

// Handler serves /healthz (200 or 503, with a JSON body saying why) and
// /metrics (Prometheus text format).
func (s *Scheduler) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		h := s.Health(s.clock.Now())
		w.Header().Set("Content-Type", "application/json")
		if !h.Healthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(h)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	return mux
}
