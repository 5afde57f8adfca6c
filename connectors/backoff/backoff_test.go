package backoff

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var errTransient = errors.New("transient")

func retryTransient(err error) bool { return errors.Is(err, errTransient) }

func TestRetriesUntilSuccess(t *testing.T) {
	calls := 0
	err := Policy{Base: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 5}.Do(context.Background(), "x", retryTransient, func() error {
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
	err := Policy{Base: time.Millisecond, Max: time.Millisecond, Attempts: 5}.Do(context.Background(), "load", retryTransient, func() error {
		calls++
		return errors.New("bad request")
	})
	if calls != 1 || err == nil || err.Error() != "load: bad request" {
		t.Errorf("permanent: %d calls, %v", calls, err)
	}
	calls = 0
	err = Policy{Base: time.Millisecond, Max: time.Millisecond, Attempts: 3}.Do(context.Background(), "load", retryTransient, func() error {
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
	err := Policy{Base: time.Hour, Max: time.Hour, Attempts: 5}.Do(ctx, "load", retryTransient, func() error {
		calls++
		cancel()
		return errTransient
	})
	if calls != 1 || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "transient") {
		t.Errorf("%d calls, %v", calls, err)
	}
}
