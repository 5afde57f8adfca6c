package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/uptake-dev/uptake/connectors/backoff"
)

// Mirror keeps, under Root, a local copy of the files remote locations
// match. A file is fetched into Root/.partial, checked (its length against
// what the store announced, then flushed to disk) and only then renamed
// into place, so a cut download never reaches a reader; what is known of
// each copy (the store's version, time and size, and the SHA-256 of the
// content) is kept in Root/.meta.
type Mirror struct {
	// Root is the mirror's folder (beside the warehouse).
	Root string
	// Log gets one line per fetched file.
	Log *slog.Logger
	// Retry is the policy of a failed fetch (default: 4 tries, waits up to
	// 1, 2, 4 s); a failure marked Permanent is not retried.
	Retry backoff.Policy

	cleared sync.Once // the partial files of a killed run, removed at the first Sync
}

// ErrNoMatch is Sync's error when the folder holds no file the pattern
// matches: the server answered, and the copies are kept.
var ErrNoMatch = errors.New("no file matches")

// Synced is what a Sync did.
type Synced struct {
	// Pattern is the local file glob matching the copies (filepath.Glob
	// syntax), to read instead of the remote path.
	Pattern string
	// Dir is the local folder holding them.
	Dir string
	// Fetched counts files downloaded; Unchanged those kept as they were;
	// Removed the copies of files no longer in the folder.
	Fetched, Unchanged, Removed int
	// Others are the folder's files that the pattern does not match
	// (their names), for warnings about lookalikes.
	Others []string
}

// meta is what the mirror keeps of one copy.
type meta struct {
	Version
	// Listed is the file's size as the listing gave it (-1 unknown): it
	// may differ from the copy's (an object stored gzip-compressed).
	Listed int64 `json:"listed"`
	// SHA256 is the hex digest of the copy's content.
	SHA256 string `json:"sha256"`
	// URL is where it came from.
	URL string `json:"url"`
	// Fetched is when it was downloaded.
	Fetched time.Time `json:"fetched"`
}

// LocalDir is the folder of loc's copies under root:
// root/scheme/host/dir, with a port's colon made an underscore, and a
// folder of its own per query string (q-<digest>: two URLs that differ by
// their query are two files).
func LocalDir(root string, loc Location) string {
	host := strings.ReplaceAll(loc.Host, ":", "_")
	dir := filepath.Join(root, loc.Scheme, host, filepath.FromSlash(loc.Dir))
	if loc.Query != "" {
		sum := sha256.Sum256([]byte(loc.Query))
		dir = filepath.Join(dir, "q-"+hex.EncodeToString(sum[:6]))
	}
	return dir
}

// Sync brings the local copies of the files loc matches up to date with
// st: new and changed files are fetched, unchanged ones kept, and the
// copies of files gone from the folder removed (only once every fetch
// succeeded). On error, the copies fetched before it stay, complete; none
// is removed.
func (m *Mirror) Sync(ctx context.Context, st Store, loc Location) (Synced, error) {
	dir := LocalDir(m.Root, loc)
	out := Synced{Dir: dir, Pattern: filepath.Join(dir, loc.Pattern)}
	if rel, err := filepath.Rel(m.Root, dir); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return out, Permanent(fmt.Errorf("%s: its copies would be outside %s", loc.Redacted(), m.Root))
	}
	m.cleared.Do(m.clearPartial)
	objs, err := m.list(ctx, st, loc)
	if err != nil {
		return out, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return out, fmt.Errorf("mirror of %s: %w", loc.Redacted(), err)
	}
	want := map[string]bool{}
	var matched []Object
	for _, o := range objs {
		if ok, _ := path.Match(loc.Pattern, o.Name); !ok {
			out.Others = append(out.Others, o.Name)
			continue
		}
		if !safeName(o.Name) {
			if m.Log != nil && !strings.HasPrefix(o.Name, ".") {
				m.Log.Warn("a file of the remote folder is skipped: its name cannot be a file name here", "url", loc.FileURL(o.Name))
			}
			continue // hidden files (._activity.csv from a Mac) are never read
		}
		want[o.Name] = true
		matched = append(matched, o)
	}
	if len(matched) == 0 {
		// Copies stay: a folder emptied by mistake, or a listing that
		// changed its form, must not erase what the last run read.
		return out, Permanent(fmt.Errorf("%w %q in %s (the copies of earlier runs are kept)", ErrNoMatch, loc.Pattern, loc.FileURL("")))
	}
	for _, o := range matched {
		fetched, err := m.syncFile(ctx, st, loc, dir, o)
		if err != nil {
			return out, err
		}
		if fetched {
			out.Fetched++
		} else {
			out.Unchanged++
		}
	}
	removed, err := m.removeGone(loc, dir, want)
	out.Removed = removed
	return out, err
}

// Open connects to the folder of loc, retrying what may mend (a refused
// or cut first connection) as a fetch is.
func (m *Mirror) Open(ctx context.Context, loc Location, s Settings) (Store, error) {
	var st Store
	err := m.policy(loc).Do(ctx, "connect to "+loc.FileURL(""), retryable(ctx), func(ctx context.Context) error {
		var err error
		st, err = Open(ctx, loc, s)
		return err
	})
	return st, err
}

// clearPartial removes the partial downloads a killed run left (runs hold
// the warehouse's lock, and validate mirrors into a folder of its own, so
// none is in progress); Sync calls it once per Mirror.
func (m *Mirror) clearPartial() {
	entries, _ := os.ReadDir(filepath.Join(m.Root, ".partial"))
	for _, e := range entries {
		os.Remove(filepath.Join(m.Root, ".partial", e.Name()))
	}
}

// list lists the folder, retrying what may mend.
func (m *Mirror) list(ctx context.Context, st Store, loc Location) ([]Object, error) {
	var objs []Object
	err := m.policy(loc).Do(ctx, "list "+loc.FileURL(""), retryable(ctx), func(ctx context.Context) error {
		var err error
		objs, err = st.List(ctx)
		return err
	})
	sort.Slice(objs, func(i, j int) bool { return objs[i].Name < objs[j].Name })
	return objs, err
}

func (m *Mirror) policy(loc Location) backoff.Policy {
	p := m.Retry
	if p.Attempts == 0 {
		p = backoff.Policy{Base: time.Second, Max: 4 * time.Second, Attempts: 4}
	}
	if p.Service == "" {
		p.Service = loc.Scheme
	}
	return p
}

// retryable retries what is not marked Permanent while the caller's ctx
// lasts (a request's own timeout is worth another try; the run's end is not).
func retryable(ctx context.Context) func(error) bool {
	return func(err error) bool { return !IsPermanent(err) && ctx.Err() == nil }
}

// safeName refuses names that would leave the folder or hide in it.
func safeName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`+"\x00") && !strings.HasPrefix(name, ".")
}

// syncFile fetches o unless the copy kept is still current; it tells
// whether it downloaded.
func (m *Mirror) syncFile(ctx context.Context, st Store, loc Location, dir string, o Object) (bool, error) {
	local := filepath.Join(dir, o.Name)
	metaPath := m.metaPath(local)
	have, haveOK := m.readMeta(metaPath, local)
	if haveOK && o.Version != "" && have.Version.Version == o.Version && (o.Size < 0 || o.Size == have.Listed) {
		return false, nil
	}
	url := loc.FileURL(o.Name)
	var fetched bool
	err := m.policy(loc).Do(ctx, "fetch "+url, retryable(ctx), func(ctx context.Context) error {
		var err error
		fetched, err = m.fetch(ctx, st, o, have, haveOK, local, metaPath, url)
		return err
	})
	return fetched, err
}

// fetch downloads o into a partial file, checks and flushes it, then
// renames it over the copy and writes its meta.
func (m *Mirror) fetch(ctx context.Context, st Store, o Object, kept meta, keptOK bool, local, metaPath, url string) (bool, error) {
	var have Version
	if keptOK {
		have = kept.Version
	}
	partialDir := filepath.Join(m.Root, ".partial")
	if err := os.MkdirAll(partialDir, 0o700); err != nil {
		return false, err
	}
	f, err := os.CreateTemp(partialDir, o.Name+".*")
	if err != nil {
		return false, err
	}
	defer os.Remove(f.Name()) // gone once renamed; a failed fetch's partial goes too
	defer f.Close()
	sum := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(f, sum)}
	got, unchanged, err := st.Fetch(ctx, o, have, cw)
	if err != nil {
		return false, err
	}
	if unchanged {
		return false, nil
	}
	if err := checkLength(url, cw.n, got.Size); err != nil {
		return false, err
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("write the copy of %s: %w", url, err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("write the copy of %s: %w", url, err)
	}
	got.Size = cw.n
	if got.Modified.IsZero() {
		got.Modified = o.Modified
	}
	if got.Version == "" {
		got.Version = o.Version
	}
	mt := meta{Version: got, Listed: o.Size, SHA256: hexSum(sum), URL: url, Fetched: time.Now().UTC()}
	if keptOK && kept.SHA256 == mt.SHA256 {
		// The same bytes again (a server without validators): the copy
		// stays as it is, times included, so nothing downstream sees a change.
		mt.Modified = kept.Modified
		return false, writeMeta(metaPath, mt)
	}
	if !got.Modified.IsZero() {
		// The copy carries the store's time: a users snapshot without a
		// date in its name is dated by it, as a local file is.
		if err := os.Chtimes(f.Name(), got.Modified, got.Modified); err != nil {
			return false, err
		}
	}
	if err := os.Rename(f.Name(), local); err != nil {
		return false, fmt.Errorf("put the copy of %s in place: %w", url, err)
	}
	if err := writeMeta(metaPath, mt); err != nil {
		return false, err
	}
	if m.Log != nil {
		m.Log.Info("fetched", "url", url, "bytes", cw.n, "path", local)
	}
	return true, nil
}

// checkLength refuses a download shorter or longer than the store
// announced in Fetch's answer (-1 when it cannot know, such as for content
// decompressed on the way: the store must then see a cut itself).
func checkLength(url string, n, got int64) error {
	if got < 0 {
		return nil
	}
	if n != got {
		return fmt.Errorf("fetch %s: got %d bytes where the store announced %d (download cut short?)", url, n, got)
	}
	return nil
}

// removeGone removes the copies matching loc's pattern whose file is no
// longer in the folder.
func (m *Mirror) removeGone(loc Location, dir string, want map[string]bool) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if ok, _ := path.Match(loc.Pattern, name); !ok || want[name] || !e.Type().IsRegular() {
			continue
		}
		local := filepath.Join(dir, name)
		if err := os.Remove(local); err != nil {
			return n, fmt.Errorf("remove the copy of %s, gone from %s: %w", name, loc.FileURL(""), err)
		}
		os.Remove(m.metaPath(local))
		n++
		if m.Log != nil {
			m.Log.Warn("a file is gone from its remote folder: its copy is removed, and its rows leave the KPIs", "url", loc.FileURL(name), "path", local)
		}
	}
	return n, nil
}

// metaPath is where the meta of a copy is kept: under Root/.meta, at the
// copy's path relative to Root.
func (m *Mirror) metaPath(local string) string {
	rel, err := filepath.Rel(m.Root, local)
	if err != nil {
		rel = filepath.Base(local)
	}
	return filepath.Join(m.Root, ".meta", rel+".json")
}

// readMeta returns the meta of the copy at local, when both are there and
// the copy still has the size and content the meta says (a copy edited or
// damaged by hand is fetched again).
func (m *Mirror) readMeta(metaPath, local string) (meta, bool) {
	var mt meta
	b, err := os.ReadFile(metaPath)
	if err != nil || json.Unmarshal(b, &mt) != nil {
		return meta{}, false
	}
	fi, err := os.Stat(local)
	if err != nil || fi.Size() != mt.Size {
		return meta{}, false
	}
	if !mt.Modified.IsZero() && !fi.ModTime().Equal(mt.Modified) {
		if sum, err := fileSum(local); err != nil || sum != mt.SHA256 {
			return meta{}, false
		}
	}
	return mt, true
}

func writeMeta(p string, mt meta) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(mt, "", "  ")
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func fileSum(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hexSum(h), nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
