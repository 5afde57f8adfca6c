package gcs

import (
	"time"

	gax "github.com/googleapis/gax-go/v2"
)

// FastRetries makes the storage client's retries wait a millisecond.
func FastRetries() {
	retryBackoff = gax.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}
	retryAttempts = 3
}
