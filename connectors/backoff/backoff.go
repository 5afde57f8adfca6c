// Package backoff retries calls to outside services: exponential waits with
// full jitter, a bounded number of attempts, and the context honoured.
// Each connector says which of its errors are worth another try. Every
// retry is logged at WARN (service, call, status or error, attempt, wait),
// so that a run slowed by a struggling service says so while it waits.
package backoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"time"

	"google.golang.org/api/googleapi"
)

// Policy is a retry policy.
type Policy struct {
	// Service names the outside service in log lines (bigquery, sheets, ga4).
	Service string
	// LoggedByTransport is set for calls whose every retry is already
	// logged by their HTTP transport (the Google connectors', see
	// googleauth): Do then logs nothing itself.
	LoggedByTransport bool
	// Base is the first wait's upper bound; each retry doubles it up to Max.
	Base, Max time.Duration
	// Attempts is the number of tries in all.
	Attempts int
}

// Default waits up to 1 s, 2 s, 4 s … 32 s, for 7 tries (about a minute).
var Default = Policy{Base: time.Second, Max: 32 * time.Second, Attempts: 7}

// For returns the policy with its service named, for calls through a
// Google client built by googleauth, whose transport logs every retry.
func (p Policy) For(service string) Policy {
	p.Service = service
	p.LoggedByTransport = true
	return p
}

type loggerKey struct{}

// WithLogger makes log the logger of the retries made under ctx (the
// default is slog.Default()).
func WithLogger(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, log)
}

// Logger is the logger of retries made under ctx (see WithLogger).
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}

// ErrGaveUp marks a call its transport gave up (too many attempts): Do
// does not try it again.
var ErrGaveUp = errors.New("given up")

type callKey struct{}

// call identifies one Do: every attempt of it carries the same.
type call struct{ what string }

// CallOf is the Do whose attempt made a request with ctx (nil outside any
// Do): the Google transport tells a retry from another call with it.
func CallOf(ctx context.Context) any { return ctx.Value(callKey{}) }

// Do runs call until it succeeds, fails with an error retryable says is not
// worth another try, runs out of attempts, or ctx ends. what names the call
// in the error and in the WARN line each retry logs. call gets ctx marked
// with this Do (see CallOf): its requests must use it.
func (p Policy) Do(ctx context.Context, what string, retryable func(error) bool, fn func(ctx context.Context) error) error {
	wait := p.Base
	var err error
	callCtx := context.WithValue(ctx, callKey{}, &call{what: what})
	for attempt := 1; ; attempt++ {
		if err = fn(callCtx); err == nil || errors.Is(err, ErrGaveUp) || !retryable(err) || attempt >= p.Attempts {
			break
		}
		sleep := time.Duration(rand.Int64N(int64(wait) + 1))
		if !p.LoggedByTransport || !seenByTransport(err) {
			Logger(ctx).Warn("retrying a failed call", "service", p.service(), "call", what, "status", Status(err),
				"error", err, "attempt", attempt+1, "attempts", p.Attempts, "wait", sleep.Round(time.Millisecond).String())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (after: %v)", what, ctx.Err(), err)
		case <-time.After(sleep):
		}
		if wait *= 2; wait > p.Max {
			wait = p.Max
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (p Policy) service() string {
	if p.Service == "" {
		return "unnamed"
	}
	return p.Service
}

// seenByTransport tells whether err is an HTTP failure (429, 5xx, no
// answer) that the Google connectors' transport has already logged, as
// opposed to a failure inside an answer (a job that ended in
// backendError) or one the connector made up.
func seenByTransport(err error) bool {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return gerr.Header != nil && (gerr.Code == 429 || gerr.Code >= 500)
	}
	var uerr *url.Error
	var nerr net.Error
	return errors.As(err, &uerr) || errors.As(err, &nerr)
}

// Status is the HTTP status of a Google API error ("429", "503"), "no
// answer" when the call got none (a refused or cut connection, a timeout),
// or "failed" (the error says how).
func Status(err error) string {
	var gerr *googleapi.Error
	var uerr *url.Error
	var nerr net.Error
	switch {
	case errors.As(err, &gerr):
		return fmt.Sprint(gerr.Code)
	case errors.As(err, &uerr), errors.As(err, &nerr):
		return "no answer"
	}
	return "failed"
}
