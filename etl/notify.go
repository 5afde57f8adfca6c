package etl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors/backoff"
)

// notifyPolicy retries a webhook a few times, quickly: a notification must
// never hold a run up for long.
var notifyPolicy = backoff.Policy{Service: "notify", Base: 500 * time.Millisecond, Max: 2 * time.Second, Attempts: 3}

// errRetry marks an answer worth another try (429, 5xx, network).
var errRetry = errors.New("webhook answered with a retryable status")

// notify posts the run's outcome to the configured webhook. Its failure is
// logged (without the URL, a secret) and never changes the run's result.
func notify(ctx context.Context, n config.Notify, res *Result, attempt, attempts int, log *slog.Logger) {
	if n.WebhookURL == "" || (res.Status == "success" && !n.OnSuccess) {
		return
	}
	post(ctx, n.WebhookURL, message(res, attempt, attempts), log)
}

// NotifyFailure tells the webhook of a scheduled job that failed before a
// run could begin (its config no longer loads).
func NotifyFailure(ctx context.Context, n config.Notify, job string, err error, log *slog.Logger) {
	if n.WebhookURL == "" {
		return
	}
	first, _, _ := strings.Cut(err.Error(), "\n")
	post(ctx, n.WebhookURL, fmt.Sprintf(":warning: uptake job %s FAILED before its run began: %s. Nothing was published.", job, first), log)
}

// post sends text to the webhook, retried briefly, never for long.
func post(ctx context.Context, url, text string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"text": text})
	err := notifyPolicy.Do(ctx, "notify", func(err error) bool { return !errors.Is(err, context.DeadlineExceeded) }, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return errRetry
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return fmt.Errorf("%w (%d)", errRetry, resp.StatusCode)
		}
		if resp.StatusCode >= 300 {
			return fmt.Errorf("webhook answered %d", resp.StatusCode)
		}
		return nil
	})
	if err != nil {
		log.Warn("the notification could not be sent", "error", strings.ReplaceAll(err.Error(), url, "<webhook>"))
	}
}

// message is the notification's text: what ran, how it ended, and why.
func message(res *Result, attempt, attempts int) string {
	var b strings.Builder
	switch res.Status {
	case "success":
		fmt.Fprintf(&b, "uptake run %s succeeded", res.RunID)
	case "stopped":
		fmt.Fprintf(&b, "uptake run %s was stopped", res.RunID)
	default:
		fmt.Fprintf(&b, ":warning: uptake run %s FAILED", res.RunID)
	}
	if attempts > 1 && res.Err != nil {
		fmt.Fprintf(&b, " (attempt %d of %d", attempt, attempts)
		if attempt < attempts {
			b.WriteString(", it will be retried")
		}
		b.WriteString(")")
	}
	if !res.WindowStart.IsZero() {
		fmt.Fprintf(&b, " (period %s to %s)", res.WindowStart.Format("2006-01"), res.WindowEnd.Format("2006-01"))
	}
	fmt.Fprintf(&b, " in %s.", res.EndedAt.Sub(res.StartedAt).Round(time.Second))
	switch {
	case res.Err != nil && len(res.Published) > 0 && len(res.NotPublished) == 0:
		first, _, _ := strings.Cut(res.Err.Error(), "\n")
		fmt.Fprintf(&b, " Error: %s. Published to %s; the warehouse keeps yesterday's tables and the next run publishes again.",
			first, strings.Join(res.Published, ", "))
	case res.Err != nil && len(res.Published) > 0:
		first, _, _ := strings.Cut(res.Err.Error(), "\n")
		fmt.Fprintf(&b, " Error: %s. Published to %s before the failure, not to %s; the warehouse keeps yesterday's tables and the next run publishes to every destination again.",
			first, strings.Join(res.Published, ", "), strings.Join(res.NotPublished, ", "))
	case res.Err != nil:
		first, _, _ := strings.Cut(res.Err.Error(), "\n")
		fmt.Fprintf(&b, " Error: %s. Nothing was published; yesterday's tables are unchanged.", first)
	default:
		fmt.Fprintf(&b, " %d output tables published", len(res.Outputs))
		if res.Rejected > 0 {
			fmt.Fprintf(&b, "; %d rows rejected", res.Rejected)
		}
		b.WriteString(".")
	}
	return b.String()
}
