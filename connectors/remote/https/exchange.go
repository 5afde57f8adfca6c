package https

// One request: its deadline for the answer, a stall limit on the body, and
// errors worded for the user (status, TLS, a cut or stalled download).

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/uptake-dev/uptake/connectors/remote"
)

// get sends a GET of u with the configured headers and hdr, bounded by
// the timeout; the caller closes the body, then calls ex.done.
func (s *store) get(ctx context.Context, u *url.URL, hdr http.Header) (*http.Response, *exchange, error) {
	shown := redact(u)
	ex := s.start(ctx)
	req, err := http.NewRequestWithContext(ex.ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		ex.done()
		return nil, nil, remote.Permanent(fmt.Errorf("GET %s: %w", shown, err))
	}
	req.Header.Set("User-Agent", userAgent)
	for k, v := range s.headers {
		req.Header[k] = v
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		ex.done()
		return nil, nil, fmt.Errorf("GET %s: %w", shown, ex.explain(err))
	}
	ex.timer.Stop()
	resp.Body = &watchedBody{ReadCloser: resp.Body, ex: ex}
	return resp, ex, nil
}

// exchange is one request under the store's timeout: a timer cancels it
// when the answer, or more of its body, is awaited for longer.
type exchange struct {
	parent  context.Context
	ctx     context.Context
	cancel  context.CancelFunc
	timeout time.Duration
	timer   *time.Timer
	stalled atomic.Bool
}

func (s *store) start(parent context.Context) *exchange {
	ex := &exchange{parent: parent, timeout: s.timeout}
	ex.ctx, ex.cancel = context.WithCancel(parent)
	ex.timer = time.AfterFunc(s.timeout, func() {
		ex.stalled.Store(true)
		ex.cancel()
	})
	return ex
}

// done releases the exchange.
func (ex *exchange) done() {
	ex.timer.Stop()
	ex.cancel()
}

// explain turns a failure of the exchange into the error to report: the
// caller's context ending (not retried), the timeout (retried), a
// certificate that is not trusted (not retried, with what to do), or the
// failure itself, without net/url's wrapping, whose message would show
// the query string.
func (ex *exchange) explain(err error) error {
	if ex.parent.Err() != nil {
		return context.Cause(ex.parent)
	}
	if ex.stalled.Load() {
		return stallError{ex.timeout}
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknown):
		return remote.Permanent(fmt.Errorf("the server's certificate is signed by an authority that is not trusted (%w); if it is your organisation's own certificate authority, set ca_file in the source's remote: block to a PEM file of it", err))
	case errors.As(err, &hostname):
		return remote.Permanent(fmt.Errorf("the server's certificate is not for this host (%w)", err))
	case errors.As(err, &invalid):
		return remote.Permanent(fmt.Errorf("the server's certificate is not valid (%w)", err))
	}
	return err
}

// stallError is a request that waited longer than the timeout; it is worth
// another try.
type stallError struct{ d time.Duration }

func (e stallError) Error() string {
	return fmt.Sprintf("nothing received for %s (remote.timeout)", e.d)
}

// Timeout tells net.Error users that this is a timeout.
func (e stallError) Timeout() bool { return true }

// Temporary tells net.Error users that it may pass.
func (e stallError) Temporary() bool { return true }

// watchedBody runs the exchange's timer while a read waits for data.
type watchedBody struct {
	io.ReadCloser
	ex *exchange
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.ex.timer.Reset(b.ex.timeout)
	n, err := b.ReadCloser.Read(p)
	b.ex.timer.Stop()
	return n, err
}

// countingReader counts the bytes read and keeps the read error, to tell
// a cut download from a failed write.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// statusError is the error of an answer other than the one expected:
// 401, 403, 404, 410 and other 4xx are permanent; 408, 425, 429 and 5xx
// are worth another try. It gives the status and the start of the body.
func statusError(resp *http.Response, shown string, listing bool) error {
	status := resp.Status
	if status == "" || !strings.Contains(status, " ") {
		status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	msg := fmt.Sprintf("GET %s: %s", shown, status)
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		msg += " (Retry-After: " + ra + ")"
	}
	if b := bodySnippet(resp); b != "" {
		msg += ": " + b
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		hint := "the server refuses the request: check the credentials in the headers: setting of the source's remote: block (an Authorization header, its value from ${VAR}) and that variable"
		if listing && code == http.StatusForbidden {
			hint += ", or the server does not list this folder (directory listing off: name one file instead of a pattern)"
		}
		return remote.Permanent(fmt.Errorf("%s — %s", msg, hint))
	case code == http.StatusNotFound || code == http.StatusGone:
		what := "no file at " + shown
		if listing {
			what = "no folder at " + shown
		}
		return remote.Permanent(fmt.Errorf("%s — %s (check the path in the config)", msg, what))
	case code == http.StatusRequestTimeout || code == http.StatusTooEarly || code == http.StatusTooManyRequests || code >= 500:
		return errors.New(msg)
	case code >= 300 && code < 400:
		return remote.Permanent(fmt.Errorf("%s — a redirect that could not be followed", msg))
	}
	return remote.Permanent(errors.New(msg))
}

// redact is u for messages: its query string's values hidden (a token or
// a signature may be there).
func redact(u *url.URL) string {
	v := *u
	v.RawQuery, v.ForceQuery, v.User = "", false, nil
	s := v.String()
	if u.RawQuery == "" {
		return s
	}
	parts := strings.Split(u.RawQuery, "&")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok {
			parts[i] = k + "=REDACTED"
		} else if p != "" {
			parts[i] = "REDACTED"
		}
	}
	return s + "?" + strings.Join(parts, "&")
}
