// Package gcs reads export files from a Google Cloud Storage bucket
// (gs://bucket/folder/pattern) with cloud.google.com/go/storage, under the
// credentials rules of uptake's other Google connectors (googleauth):
// remote.credentials_file, else Application Default Credentials; or
// remote.endpoint, another address of the API (fake-gcs-server, say),
// reached without credentials.
//
// A file's version is its object generation: an object written again gets a
// new one and is fetched again, at that generation, so a copy never mixes
// two writes. The client checks each download's CRC32C.
package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/storage"
	gax "github.com/googleapis/gax-go/v2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"

	"github.com/uptake-dev/uptake/connectors/googleauth"
	"github.com/uptake-dev/uptake/connectors/remote"
)

func init() { remote.Register("gs", Open) }

// The storage client retries what may mend (429, 5xx, a cut connection,
// a download cut in the middle, which it resumes where it stopped) on its
// own, logged by googleauth's transport; the mirror does not retry again:
// every error of this store is final (remote.Permanent).
var (
	retryBackoff  = gax.Backoff{Initial: time.Second, Max: 16 * time.Second, Multiplier: 2}
	retryAttempts = 6
)

// Store is one folder of a bucket.
type Store struct {
	client *storage.Client
	bucket string
	prefix string // the folder with a trailing slash, "" for the bucket's root
	loc    remote.Location
	// timeout bounds a listing and a download, retries and resumes included.
	timeout time.Duration
}

// Open connects to the folder of loc.
func Open(ctx context.Context, loc remote.Location, s remote.Settings) (remote.Store, error) {
	opts, err := googleauth.ClientOptions(ctx, googleauth.Settings{
		Service: "storage", Scopes: []string{storage.ScopeReadOnly},
		CredentialsFile: s.CredentialsFile, Endpoint: endpointBase(s.Endpoint), APIPath: "storage/v1/",
	})
	if err != nil {
		return nil, err
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("storage client: %w", err)
	}
	client.SetRetry(storage.WithBackoff(retryBackoff), storage.WithMaxAttempts(retryAttempts))
	timeout := s.WaitLimit()
	prefix := ""
	if loc.Dir != "" {
		prefix = loc.Dir + "/"
	}
	return &Store{client: client, bucket: loc.Host, prefix: prefix, loc: loc, timeout: timeout}, nil
}

// endpointBase is the endpoint without the API path that uptake adds
// (fake-gcs-server's README gives it with /storage/v1/).
func endpointBase(e string) string {
	return strings.TrimSuffix(strings.TrimRight(e, "/"), "/storage/v1")
}

// List returns the objects directly in the folder.
func (s *Store) List(ctx context.Context) ([]remote.Object, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	q := &storage.Query{Prefix: s.prefix, Delimiter: "/"}
	if err := q.SetAttrSelection([]string{"Name", "Size", "Updated", "Generation"}); err != nil {
		return nil, err
	}
	it := s.client.Bucket(s.bucket).Objects(ctx, q)
	var out []remote.Object
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, s.explain(err)
		}
		if a.Prefix != "" || strings.HasSuffix(a.Name, "/") {
			continue // a subfolder, or the folder's placeholder object
		}
		out = append(out, remote.Object{
			Name: strings.TrimPrefix(a.Name, s.prefix), Size: a.Size, Modified: a.Updated,
			Version: strconv.FormatInt(a.Generation, 10),
		})
	}
}

// Fetch downloads the object at the generation listed. remote.timeout is
// the longest the download may go without a byte (the storage client's
// retries and resumes included), not a bound on the whole download: a
// large export on a slow link keeps going as long as it moves.
func (s *Store) Fetch(ctx context.Context, obj remote.Object, _ remote.Version, w io.Writer) (remote.Version, bool, error) {
	ctx, stalled := watchdog(ctx, s.timeout)
	defer stalled.stop()
	h := s.client.Bucket(s.bucket).Object(s.prefix + obj.Name)
	if gen, err := strconv.ParseInt(obj.Version, 10, 64); err == nil {
		h = h.Generation(gen)
	}
	r, err := h.NewReader(ctx)
	if err != nil {
		return remote.Version{}, false, stalled.explain(s.explain(err))
	}
	defer r.Close()
	size := r.Attrs.Size
	if r.Attrs.Decompressed {
		size = -1 // gzip-encoded, decompressed on the way: the length is not the object's
	}
	if _, err := io.Copy(w, progress{r, stalled}); err != nil {
		return remote.Version{}, false, stalled.explain(remote.Permanent(err))
	}
	return remote.Version{Version: obj.Version, Modified: obj.Modified, Size: size}, false, nil
}

// stallTimer cancels a download's context when no byte came for a while.
type stallTimer struct {
	timer   *time.Timer
	timeout time.Duration
	fired   chan struct{}
	once    sync.Once
	cancel  context.CancelFunc
}

// watchdog returns a context that ends when timeout passes without a call
// to moved.
func watchdog(ctx context.Context, timeout time.Duration) (context.Context, *stallTimer) {
	ctx, cancel := context.WithCancel(ctx)
	t := &stallTimer{timeout: timeout, fired: make(chan struct{}), cancel: cancel}
	t.timer = time.AfterFunc(timeout, func() { t.once.Do(func() { close(t.fired) }); cancel() })
	return ctx, t
}

// moved restarts the wait.
func (t *stallTimer) moved() { t.timer.Reset(t.timeout) }

func (t *stallTimer) stop() { t.timer.Stop(); t.cancel() }

// explain says that err came from a stalled download, when it did.
func (t *stallTimer) explain(err error) error {
	select {
	case <-t.fired:
		return remote.Permanent(fmt.Errorf("no data for %s (remote.timeout): %w", t.timeout, err))
	default:
		return err
	}
}

// progress restarts a stall timer at each read that brings bytes.
type progress struct {
	r io.Reader
	t *stallTimer
}

func (p progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.t.moved()
	}
	return n, err
}

// Close closes the client.
func (s *Store) Close() error { return s.client.Close() }

// explain words the errors that another try cannot mend, and marks them
// (the mirror names the URL).
func (s *Store) explain(err error) error {
	var gerr *googleapi.Error
	switch {
	case errors.Is(err, storage.ErrBucketNotExist):
		return remote.Permanent(fmt.Errorf("bucket %q does not exist (or these credentials cannot see it)", s.bucket))
	case errors.Is(err, storage.ErrObjectNotExist):
		return remote.Permanent(fmt.Errorf("the object is gone or was written again since it was listed (run again): %w", err))
	case errors.As(err, &gerr) && (gerr.Code == http.StatusUnauthorized || gerr.Code == http.StatusForbidden):
		return remote.Permanent(fmt.Errorf("refused (%d): the credentials (remote.credentials_file, else Application Default Credentials) need storage.objects.list and storage.objects.get on bucket %q (role Storage Object Viewer): %w", gerr.Code, s.bucket, err))
	}
	return remote.Permanent(err)
}
