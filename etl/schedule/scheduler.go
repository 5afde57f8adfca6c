package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Job is one scheduled job.
type Job struct {
	// Name identifies the job in history, logs and metrics.
	Name string
	// Cron says when the job fires.
	Cron *Cron
	// Retries is how many times a failed run is tried again.
	Retries int
	// RetryDelay is the wait before the first retry; it doubles for each
	// further one, up to MaxRetryDelay.
	RetryDelay time.Duration
}

// MaxRetryDelay caps the wait between two tries of a run.
const MaxRetryDelay = time.Hour

// Outcome is what a run reports to the scheduler.
type Outcome struct {
	RunID   string
	RowsOut map[string]int64
}

// RunFunc runs a job once: try attempt (from 1) of at most attempts.
type RunFunc func(ctx context.Context, job string, attempt, attempts int) (Outcome, error)

// LastRun is what history says of a job's last scheduled run.
type LastRun struct {
	Started time.Time
	Ended   time.Time
	Success bool
	// Interrupted says the run was stopped (SIGTERM) or cut off (a crash)
	// before it ended: it is caught up at start, and is no failure.
	Interrupted bool
	Error       string
}

// Scheduler fires jobs on their schedules, one run at a time.
type Scheduler struct {
	jobs    []Job
	run     RunFunc
	clock   clockwork.Clock
	log     *slog.Logger
	overdue time.Duration
	metrics *metrics
	started time.Time

	mu    sync.Mutex
	state map[string]*jobState
}

// jobState is what the scheduler knows of a job, for health and metrics.
type jobState struct {
	next        time.Time
	lastStart   time.Time
	lastEnd     time.Time
	lastSuccess time.Time
	lastFailed  bool
	lastError   string
	lastRunID   string
	running     bool
	failures    int // consecutive failed runs (after their retries)
	catchUp     bool
	baseline    time.Time // ticks before it are not expected to have run
}

// Options configure a Scheduler.
type Options struct {
	Jobs []Job
	Run  RunFunc
	// Clock is the scheduler's clock (default: the real one).
	Clock clockwork.Clock
	// Logger receives one line per firing, retry and end.
	Logger *slog.Logger
	// History gives each job's last scheduled run before this process
	// started (nil or missing: none). A job whose last tick passed since
	// that run is caught up once at start.
	History map[string]LastRun
	// OverdueAfter is how long after a tick a job may go without a
	// successful run before /healthz calls it overdue (default 6h).
	OverdueAfter time.Duration
}

// New builds a Scheduler.
func New(opt Options) (*Scheduler, error) {
	if len(opt.Jobs) == 0 {
		return nil, errors.New("schedule: no jobs")
	}
	if opt.Run == nil {
		return nil, errors.New("schedule: no run function")
	}
	if opt.Clock == nil {
		opt.Clock = clockwork.NewRealClock()
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.OverdueAfter <= 0 {
		opt.OverdueAfter = 6 * time.Hour
	}
	s := &Scheduler{jobs: opt.Jobs, run: opt.Run, clock: opt.Clock, log: opt.Logger, overdue: opt.OverdueAfter,
		state: map[string]*jobState{}, started: opt.Clock.Now()}
	s.metrics = newMetrics(s)
	seen := map[string]bool{}
	for _, j := range opt.Jobs {
		if seen[j.Name] {
			return nil, fmt.Errorf("schedule: two jobs named %q", j.Name)
		}
		seen[j.Name] = true
		st := &jobState{baseline: s.started}
		if h, ok := opt.History[j.Name]; ok {
			st.lastStart, st.lastEnd = h.Started, h.Ended
			st.lastFailed, st.lastError = !h.Success && !h.Interrupted, h.Error
			if h.Success {
				st.lastSuccess = h.Ended
			}
			// After downtime, the last tick passed with no run since; a run
			// stopped or cut off by the downtime did not happen either.
			if prev := j.Cron.Prev(s.started); h.Interrupted || (!prev.IsZero() && h.Started.Before(prev)) {
				st.catchUp = true
			}
			st.baseline = h.Started
			s.metrics.fromHistory(j.Name, h)
		}
		s.state[j.Name] = st
	}
	return s, nil
}

// Start fires the jobs until ctx is done. A run in flight when ctx ends is
// left to the run function to stop cleanly; Start returns once it has.
func (s *Scheduler) Start(ctx context.Context) error {
	now := s.clock.Now()
	s.mu.Lock()
	for _, j := range s.jobs {
		st := s.state[j.Name]
		st.next = j.Cron.Next(now)
		if st.catchUp {
			st.next = now
		}
	}
	s.mu.Unlock()
	for _, j := range s.jobs {
		st := s.state[j.Name]
		if st.catchUp {
			s.log.Info("catching up a run missed while uptake was not running", "job", j.Name,
				"last_run", st.lastStart.Format(time.RFC3339))
		}
		s.log.Info("scheduled", "job", j.Name, "cron", j.Cron.String(), "next", st.next.Format(time.RFC3339))
	}
	for {
		due, wait := s.due()
		if len(due) == 0 {
			timer := s.clock.NewTimer(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return nil
			case <-timer.Chan():
			}
			continue
		}
		for _, j := range due {
			if ctx.Err() != nil {
				return nil
			}
			s.fire(ctx, j)
		}
	}
}

// due lists the jobs whose time has come, earliest first. With none due,
// it says how long to wait.
func (s *Scheduler) due() ([]Job, time.Duration) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []Job
	wait := time.Duration(1<<63 - 1)
	for _, j := range s.jobs {
		st := s.state[j.Name]
		if st.next.IsZero() {
			continue // never fires
		}
		if !st.next.After(now) {
			due = append(due, j)
			continue
		}
		if d := st.next.Sub(now); d < wait {
			wait = d
		}
	}
	sort.SliceStable(due, func(a, b int) bool { return s.state[due[a].Name].next.Before(s.state[due[b].Name].next) })
	return due, wait
}

// fire runs a job, retrying a failure with backoff, and records the end.
// The job's next time is the first tick after the run starts: the ticks
// that pass while a run goes on (its own or another job's) fire once when
// it ends, not once each.
func (s *Scheduler) fire(ctx context.Context, j Job) {
	s.mu.Lock()
	st := s.state[j.Name]
	st.running, st.lastStart = true, s.clock.Now()
	st.next = j.Cron.Next(st.lastStart)
	s.mu.Unlock()
	s.metrics.inProgress.WithLabelValues(j.Name).Set(1)

	var out Outcome
	var err error
	delay := min(j.RetryDelay, MaxRetryDelay)
	for attempt := 1; ; attempt++ {
		s.log.Info("job firing", "job", j.Name, "attempt", attempt)
		out, err = s.run(ctx, j.Name, attempt, 1+j.Retries)
		if err == nil || attempt > j.Retries || ctx.Err() != nil {
			break
		}
		s.log.Warn("run failed; retrying", "job", j.Name, "attempt", attempt, "retry_in", delay.String(), "error", err)
		timer := s.clock.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
		case <-timer.Chan():
		}
		if ctx.Err() != nil {
			break
		}
		delay = min(2*delay, MaxRetryDelay)
	}

	now := s.clock.Now()
	s.mu.Lock()
	st.running, st.lastEnd, st.lastRunID = false, now, out.RunID
	duration := now.Sub(st.lastStart)
	if err == nil {
		st.lastFailed, st.lastError, st.lastSuccess, st.failures = false, "", now, 0
	} else {
		st.lastFailed, st.lastError = true, err.Error()
		st.failures++
	}
	next := st.next
	s.mu.Unlock()
	s.metrics.recordRun(j.Name, err == nil, now, duration, out.RowsOut)
	if err != nil {
		s.log.Error("job failed", "job", j.Name, "run_id", out.RunID, "error", err, "next", next.Format(time.RFC3339))
		return
	}
	s.log.Info("job succeeded", "job", j.Name, "run_id", out.RunID, "duration", duration.Round(time.Millisecond).String(),
		"next", next.Format(time.RFC3339))
}
