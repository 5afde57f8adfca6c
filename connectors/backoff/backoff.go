// Package backoff retries calls to outside services: exponential waits with
// full jitter, a bounded number of attempts, and the context honoured.
// Each connector says which of its errors are worth another try.
package backoff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy is a retry policy.
type Policy struct {
	// Base is the first wait's upper bound; each retry doubles it up to Max.
	Base, Max time.Duration
	// Attempts is the number of tries in all.
	Attempts int
}

// Default waits up to 1 s, 2 s, 4 s … 32 s, for 7 tries (about a minute).
var Default = Policy{Base: time.Second, Max: 32 * time.Second, Attempts: 7}

// Do runs call until it succeeds, fails with an error retryable says is not
// worth another try, runs out of attempts, or ctx ends. what names the call
// in the error.
func (p Policy) Do(ctx context.Context, what string, retryable func(error) bool, call func() error) error {
	wait := p.Base
	var err error
	for attempt := 1; ; attempt++ {
		if err = call(); err == nil || !retryable(err) || attempt >= p.Attempts {
			break
		}
		sleep := time.Duration(rand.Int64N(int64(wait) + 1))
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
