package https_test

import (
	"bufio"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/connectors/remote"
	_ "github.com/uptake-dev/uptake/connectors/remote/https"
)

// seen is one request as the test server saw it.
type seen struct {
	Path, RawQuery          string
	IfNoneMatch, IfModSince string
	Authorization, APIKey   string
	Referer                 string
	Status                  int // -1: hijacked
}

func (s seen) String() string {
	return fmt.Sprintf("%s?%s inm=%q ims=%q auth=%q key=%q referer=%q -> %d", s.Path, s.RawQuery, s.IfNoneMatch, s.IfModSince, s.Authorization, s.APIKey, s.Referer, s.Status)
}

// server is an httptest TLS server that records the requests it gets.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

// take returns the requests seen since the last take.
func (s *server) take() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reqs
	s.reqs = nil
	return r
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() { r.ResponseWriter.(http.Flusher).Flush() }

// newServer starts a TLS server running h and returns it with settings
// that trust its certificate through a PEM file, as a user's ca_file.
func newServer(t *testing.T, h http.HandlerFunc) (*server, remote.Settings) {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		var hw http.ResponseWriter = rec
		if _, ok := w.(http.Hijacker); ok {
			hw = hijackRecorder{rec}
		}
		h(hw, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{
			Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			IfNoneMatch: r.Header.Get("If-None-Match"), IfModSince: r.Header.Get("If-Modified-Since"),
			Authorization: r.Header.Get("Authorization"), APIKey: r.Header.Get("X-Api-Key"), Referer: r.Referer(),
			Status: rec.status,
		})
		s.mu.Unlock()
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS handshake errors of the untrusted-certificate test
	s.StartTLS()
	t.Cleanup(s.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return s, remote.Settings{CAFile: ca}
}

// hijackRecorder is a recorder that can hand over the connection.
type hijackRecorder struct{ *recorder }

func (h hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h.status = -1
	return h.ResponseWriter.(http.Hijacker).Hijack()
}

func newMirror(t *testing.T) *remote.Mirror {
	return &remote.Mirror{Root: t.TempDir(), Retry: backoff.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 3}}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// syncURL opens raw with s and syncs m with it, as the csvexport source does.
func syncURL(t *testing.T, m *remote.Mirror, raw string, s remote.Settings) (remote.Synced, error) {
	t.Helper()
	loc, err := remote.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := backoff.WithLogger(context.Background(), quiet)
	st, err := remote.Open(ctx, loc, s)
	if err != nil {
		return remote.Synced{}, err
	}
	defer st.Close()
	return m.Sync(ctx, st, loc)
}

func localDir(t *testing.T, m *remote.Mirror, raw string) string {
	loc, err := remote.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return remote.LocalDir(m.Root, loc)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noPartial fails when a partial download was left behind.
func noPartial(t *testing.T, m *remote.Mirror) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(m.Root, ".partial"))
	for _, e := range entries {
		t.Errorf("partial file left: %s", e.Name())
	}
}

type file struct {
	body, etag string
	modified   time.Time
}

// folder serves files (by URL path) with http.ServeContent, which answers
// If-None-Match and If-Modified-Since, and a folder's listing with page.
type folder struct {
	mu    sync.Mutex
	files map[string]file
	dirs  map[string][]string // folder path -> its subfolders' names
	page  func(host, dir string, names, dirs []string) string
}

func (f *folder) set(p string, fl file) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[p] = fl
}

func (f *folder) remove(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.files, p)
}

func (f *folder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, "/") {
		var names []string
		for p := range f.files {
			if d, n := path.Split(p); d == r.URL.Path {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, f.page(r.Host, r.URL.Path, names, f.dirs[r.URL.Path]))
		return
	}
	fl, ok := f.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if fl.etag != "" {
		w.Header().Set("ETag", fl.etag)
	}
	http.ServeContent(w, r, path.Base(r.URL.Path), fl.modified, strings.NewReader(fl.body))
}

func href(name string) string { return html.EscapeString((&url.URL{Path: name}).EscapedPath()) }

// apachePage is a listing as Apache's mod_autoindex writes it (FancyIndexing
// with its sort links, the parent link, a table).
func apachePage(_, dir string, names, dirs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>Index of %[1]s</title>
 </head>
 <body>
<h1>Index of %[1]s</h1>
  <table>
   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>
   <tr><th colspan="5"><hr></th></tr>
<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="/">Parent Directory</a></td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>
`, strings.TrimSuffix(dir, "/"))
	for _, d := range dirs {
		fmt.Fprintf(&b, `<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="%s/">%s/</a></td><td align="right">2024-02-01 10:00  </td><td align="right">  - </td><td>&nbsp;</td></tr>
`, href(d), html.EscapeString(d))
	}
	for _, n := range names {
		fmt.Fprintf(&b, `<tr><td valign="top"><img src="/icons/text.gif" alt="[TXT]"></td><td><a href="%s">%s</a></td><td align="right">2024-02-01 10:00  </td><td align="right">1.2K</td><td>&nbsp;</td></tr>
`, href(n), html.EscapeString(n))
	}
	b.WriteString("   <tr><th colspan=\"5\"><hr></th></tr>\n</table>\n<address>Apache/2.4.58 (Ubuntu) Server at example.com Port 443</address>\n</body></html>\n")
	return b.String()
}

// nginxPage is a listing as nginx's autoindex writes it.
func nginxPage(_, dir string, names, dirs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<html>\r\n<head><title>Index of %[1]s</title></head>\r\n<body>\r\n<h1>Index of %[1]s</h1><hr><pre><a href=\"../\">../</a>\r\n", dir)
	for _, d := range dirs {
		fmt.Fprintf(&b, "<a href=\"%s/\">%s/</a>%s01-Feb-2024 10:00                   -\r\n", href(d), html.EscapeString(d), strings.Repeat(" ", 40))
	}
	for _, n := range names {
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a>%s01-Feb-2024 10:00                1234\r\n", href(n), html.EscapeString(n), strings.Repeat(" ", 30))
	}
	b.WriteString("</pre><hr></body>\r\n</html>\r\n")
	return b.String()
}

// linksPage is a hand-written page of links, each file linked its own way
// (absolute URL, absolute path, ./name, unquoted, upper case, twice),
// among links that are not files of the folder.
func linksPage(host, dir string, names, dirs []string) string {
	var b strings.Builder
	b.WriteString("<!doctype html><title>exports</title><ul>\n")
	for i, n := range names {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "<li><a href=\"https://%s%s%s\">%s</a>\n", host, dir, href(n), n)
		case 1:
			fmt.Fprintf(&b, "<li><a href='%s%s'>%s</a>\n", dir, href(n), n)
		case 2:
			fmt.Fprintf(&b, "<li><A HREF=\"./%s\">%s</A>\n", href(n), n)
		case 3:
			fmt.Fprintf(&b, "<li><a class=f href=%s>%s</a>\n", href(n), n)
		case 4:
			fmt.Fprintf(&b, "<li><a title=\"x\" href=\" %s \">%s</a>\n", href(n), n)
		}
		fmt.Fprintf(&b, "<li><a href=\"%s\">again</a>\n", href(n))
	}
	for _, d := range dirs {
		fmt.Fprintf(&b, "<li><a href=\"%s/\">%s</a> <a href=\"%s/activity_old.csv\">old</a>\n", href(d), d, href(d))
	}
	b.WriteString(`<li><a href="../">up</a> <a href="?C=N;O=D">sort</a> <a href="#top">top</a> <a href="mailto:ops@example.com">mail</a>
<li><a href="https://elsewhere.example` + dir + `activity_x.csv">mirror</a> <a href="/other/activity_y.csv">other</a>
<li><a href="activity_q.csv?download=1">query</a> <a name="anchor">no href</a>
</ul>
`)
	return b.String()
}

// TestSyncListedFolder: a folder listed by Apache, nginx or a page of
// links: the first sync fetches exactly the matching files; the second
// sends conditional requests, gets 304 and fetches nothing; a changed file
// is fetched again, and the copy of a file gone from the listing removed.
func TestSyncListedFolder(t *testing.T) {
	pages := map[string]func(host, dir string, names, dirs []string) string{
		"apache": apachePage, "nginx": nginxPage, "links": linksPage,
	}
	for name, page := range pages {
		t.Run(name, func(t *testing.T) {
			mod := time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC)
			f := &folder{page: page, dirs: map[string][]string{"/exports/": {"archive"}}, files: map[string]file{
				"/exports/activity_2024-01.csv":     {body: "user,day\n1,2024-01-01\n", etag: `"a1"`, modified: mod},
				"/exports/activity_2024-02.csv":     {body: "user,day\n2,2024-02-01\n", etag: `"a2"`, modified: mod},
				"/exports/activity 2024-03&x.csv":   {body: "user,day\n3,2024-03-01\n", etag: `W/"a3"`, modified: mod},
				"/exports/users.csv":                {body: "user\n1\n", etag: `"u"`, modified: mod},
				"/exports/readme.txt":               {body: "hello", etag: `"r"`, modified: mod},
				"/exports/archive/activity_old.csv": {body: "old", etag: `"o"`, modified: mod},
			}}
			srv, settings := newServer(t, f.ServeHTTP)
			raw := srv.URL + "/exports/activity*.csv"
			m := newMirror(t)
			dir := localDir(t, m, raw)
			matching := []string{"/exports/activity 2024-03&x.csv", "/exports/activity_2024-01.csv", "/exports/activity_2024-02.csv"}

			got, err := syncURL(t, m, raw, settings)
			if err != nil {
				t.Fatal(err)
			}
			if got.Fetched != 3 || got.Unchanged != 0 || got.Removed != 0 || !slices.Equal(got.Others, []string{"readme.txt", "users.csv"}) {
				t.Fatalf("first sync: %+v", got)
			}
			for _, p := range matching {
				if b := readFile(t, filepath.Join(dir, path.Base(p))); b != f.files[p].body {
					t.Errorf("%s: copy %q, want %q", p, b, f.files[p].body)
				}
			}
			reqs := srv.take()
			if len(reqs) != 4 || reqs[0].Path != "/exports/" || reqs[0].Status != 200 {
				t.Fatalf("first sync requests: %v", reqs)
			}
			var paths []string
			for _, r := range reqs[1:] {
				paths = append(paths, r.Path)
				if r.IfNoneMatch != "" || r.IfModSince != "" || r.Status != 200 {
					t.Errorf("first fetch not plain: %v", r)
				}
			}
			if !slices.Equal(paths, matching) {
				t.Errorf("fetched %q, want %q", paths, matching)
			}

			got, err = syncURL(t, m, raw, settings)
			if err != nil {
				t.Fatal(err)
			}
			if got.Fetched != 0 || got.Unchanged != 3 || got.Removed != 0 {
				t.Fatalf("second sync: %+v", got)
			}
			reqs = srv.take()
			if len(reqs) != 4 {
				t.Fatalf("second sync requests: %v", reqs)
			}
			for _, r := range reqs[1:] {
				if want := f.files[r.Path].etag; r.IfNoneMatch != want || r.IfModSince != mod.Format(http.TimeFormat) || r.Status != http.StatusNotModified {
					t.Errorf("second sync: %v, want If-None-Match %s and 304", r, want)
				}
			}

			f.set("/exports/activity_2024-02.csv", file{body: "user,day\n2,2024-02-01\n2,2024-02-02\n", etag: `"a2v2"`, modified: mod.Add(time.Hour)})
			f.remove("/exports/activity_2024-01.csv")
			got, err = syncURL(t, m, raw, settings)
			if err != nil {
				t.Fatal(err)
			}
			if got.Fetched != 1 || got.Unchanged != 1 || got.Removed != 1 {
				t.Fatalf("third sync: %+v", got)
			}
			if b := readFile(t, filepath.Join(dir, "activity_2024-02.csv")); b != f.files["/exports/activity_2024-02.csv"].body {
				t.Errorf("changed file's copy: %q", b)
			}
			if _, err := os.Stat(filepath.Join(dir, "activity_2024-01.csv")); !os.IsNotExist(err) {
				t.Errorf("copy of the removed file: %v", err)
			}
			reqs = srv.take()
			if len(reqs) != 3 || reqs[1].Status != 304 || reqs[2].Path != "/exports/activity_2024-02.csv" || reqs[2].Status != 200 {
				t.Errorf("third sync requests: %v", reqs)
			}
			noPartial(t, m)
		})
	}
}

// TestSyncOneFileWithQuery: a URL naming one file, with a token in its
// query string, is fetched as written without a listing; a server that
// sends Last-Modified but no ETag gets If-Modified-Since; the token never
// shows in messages.
func TestSyncOneFileWithQuery(t *testing.T) {
	mod := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	f := &folder{files: map[string]file{"/dl/export.csv": {body: "a,b\n1,2\n", modified: mod}}}
	srv, settings := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "abc" {
			http.Error(w, "bad token", http.StatusForbidden)
			return
		}
		f.ServeHTTP(w, r)
	})
	raw := srv.URL + "/dl/export.csv?token=abc&v=1"
	m := newMirror(t)
	local := filepath.Join(localDir(t, m, raw), "export.csv")

	got, err := syncURL(t, m, raw, settings)
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.take()
	if got.Fetched != 1 || len(reqs) != 1 || reqs[0].RawQuery != "token=abc&v=1" || reqs[0].IfModSince != "" || reqs[0].IfNoneMatch != "" {
		t.Fatalf("first sync: %+v, requests %v", got, reqs)
	}
	if b := readFile(t, local); b != "a,b\n1,2\n" {
		t.Errorf("copy: %q", b)
	}
	if fi, err := os.Stat(local); err != nil || !fi.ModTime().Equal(mod) {
		t.Errorf("copy's time: %v %v, want %v", fi.ModTime(), err, mod)
	}

	got, err = syncURL(t, m, raw, settings)
	if err != nil {
		t.Fatal(err)
	}
	reqs = srv.take()
	if got.Fetched != 0 || got.Unchanged != 1 || len(reqs) != 1 || reqs[0].IfModSince != mod.Format(http.TimeFormat) || reqs[0].IfNoneMatch != "" || reqs[0].Status != 304 {
		t.Fatalf("second sync: %+v, requests %v", got, reqs)
	}

	f.set("/dl/export.csv", file{body: "a,b\n1,2\n3,4\n", modified: mod.Add(24 * time.Hour)})
	got, err = syncURL(t, m, raw, settings)
	if err != nil || got.Fetched != 1 {
		t.Fatalf("third sync: %+v %v", got, err)
	}
	if b := readFile(t, local); b != "a,b\n1,2\n3,4\n" {
		t.Errorf("copy: %q", b)
	}
	srv.take()

	_, err = syncURL(t, newMirror(t), srv.URL+"/dl/export.csv?token=wrong", settings)
	if err == nil || !remote.IsPermanent(err) || strings.Contains(err.Error(), "wrong") || !strings.Contains(err.Error(), "bad token") {
		t.Errorf("wrong token: %v", err)
	}
	if reqs := srv.take(); len(reqs) != 1 {
		t.Errorf("a refused request is not tried again: %v", reqs)
	}
}

// TestHeaders: the configured headers reach the server; a refused
// credential is a permanent error that points at the headers setting; a
// missing file names its URL; a folder the server will not list says so.
func TestHeaders(t *testing.T) {
	f := &folder{files: map[string]file{"/dl/export.csv": {body: "x\n", etag: `"1"`}}}
	srv, settings := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" || r.Header.Get("X-Api-Key") != "k1" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error": "invalid token"}`)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/") {
			http.Error(w, "Forbidden", http.StatusForbidden)
			return
		}
		f.ServeHTTP(w, r)
	})
	settings.Headers = map[string]string{"Authorization": "Bearer s3cret", "x-api-key": "k1"}
	if _, err := syncURL(t, newMirror(t), srv.URL+"/dl/export.csv", settings); err != nil {
		t.Fatal(err)
	}
	if reqs := srv.take(); len(reqs) != 1 || reqs[0].Authorization != "Bearer s3cret" || reqs[0].APIKey != "k1" {
		t.Errorf("requests: %v", reqs)
	}

	settings.Headers["Authorization"] = "Bearer expired"
	_, err := syncURL(t, newMirror(t), srv.URL+"/dl/export.csv", settings)
	t.Logf("401: %v", err)
	if err == nil || !remote.IsPermanent(err) || !strings.Contains(err.Error(), "401 Unauthorized") ||
		!strings.Contains(err.Error(), "headers:") || !strings.Contains(err.Error(), "invalid token") || strings.Contains(err.Error(), "expired") {
		t.Errorf("401: %v", err)
	}
	if reqs := srv.take(); len(reqs) != 1 {
		t.Errorf("401 tried again: %v", reqs)
	}

	settings.Headers["Authorization"] = "Bearer s3cret"
	_, err = syncURL(t, newMirror(t), srv.URL+"/dl/missing.csv", settings)
	t.Logf("404: %v", err)
	if err == nil || !remote.IsPermanent(err) || !strings.Contains(err.Error(), "404 Not Found") || !strings.Contains(err.Error(), "no file at "+srv.URL+"/dl/missing.csv") {
		t.Errorf("404: %v", err)
	}
	if reqs := srv.take(); len(reqs) != 1 {
		t.Errorf("404 tried again: %v", reqs)
	}

	_, err = syncURL(t, newMirror(t), srv.URL+"/dl/*.csv", settings)
	if err == nil || !remote.IsPermanent(err) || !strings.Contains(err.Error(), "403 Forbidden") || !strings.Contains(err.Error(), "directory listing off") {
		t.Errorf("403 on the listing: %v", err)
	}
}

// TestRedirects: a redirect on the same host keeps the headers; one to
// another host drops them all (not just Authorization) and sends no
// Referer (it would carry the token of the query string); one to plain
// http is refused.
func TestRedirects(t *testing.T) {
	other, _ := newServer(t, (&folder{files: map[string]file{"/file.csv": {body: "there\n"}}}).ServeHTTP)
	srv, settings := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old.csv":
			http.Redirect(w, r, "/new.csv", http.StatusFound)
		case "/new.csv":
			io.WriteString(w, "here\n")
		case "/away.csv":
			http.Redirect(w, r, other.URL+"/file.csv?sig=2", http.StatusFound)
		case "/plain.csv":
			http.Redirect(w, r, "http://"+r.Host+"/x.csv", http.StatusMovedPermanently)
		}
	})
	settings.Headers = map[string]string{"Authorization": "Bearer s3cret", "X-Api-Key": "k1"}
	m := newMirror(t)
	if _, err := syncURL(t, m, srv.URL+"/old.csv", settings); err != nil {
		t.Fatal(err)
	}
	if reqs := srv.take(); len(reqs) != 2 || reqs[1].Path != "/new.csv" || reqs[1].Authorization != "Bearer s3cret" || reqs[1].APIKey != "k1" {
		t.Errorf("same-host redirect: %v", reqs)
	}
	if _, err := syncURL(t, m, srv.URL+"/away.csv?token=abc", settings); err != nil {
		t.Fatal(err)
	}
	if b := readFile(t, filepath.Join(localDir(t, m, srv.URL+"/away.csv?token=abc"), "away.csv")); b != "there\n" {
		t.Errorf("copy: %q", b)
	}
	if reqs := other.take(); len(reqs) != 1 || reqs[0].Authorization != "" || reqs[0].APIKey != "" || reqs[0].Referer != "" {
		t.Errorf("headers reached the other host: %+v", reqs)
	}
	srv.take()
	_, err := syncURL(t, m, srv.URL+"/plain.csv", settings)
	if err == nil || !remote.IsPermanent(err) || !strings.Contains(err.Error(), "plain http is refused") {
		t.Errorf("redirect to http: %v", err)
	}
	if reqs := srv.take(); len(reqs) != 1 {
		t.Errorf("requests: %v", reqs)
	}
}

// TestRetries: 503 twice then 200 succeeds; 503 always fails with the
// status and the start of the body, leaving the earlier copy as it was
// and no partial file.
func TestRetries(t *testing.T) {
	var mu sync.Mutex
	failures := 2
	f := &folder{files: map[string]file{"/dl/export.csv": {body: "v1\n", etag: `"1"`}}}
	srv, settings := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fail := failures != 0
		if failures > 0 {
			failures--
		}
		mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "<html><head><title>503</title><style>body{x:y}</style></head><body><h1>Service   Unavailable</h1><p>Back at 10:00. "+strings.Repeat("Sorry. ", 60)+"</p></body></html>")
			return
		}
		f.ServeHTTP(w, r)
	})
	raw := srv.URL + "/dl/export.csv"
	m := newMirror(t)
	got, err := syncURL(t, m, raw, settings)
	if err != nil || got.Fetched != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	if reqs := srv.take(); len(reqs) != 3 || reqs[0].Status != 503 || reqs[2].Status != 200 {
		t.Errorf("requests: %v", reqs)
	}

	mu.Lock()
	failures = -1
	mu.Unlock()
	f.set("/dl/export.csv", file{body: "v2\n", etag: `"2"`})
	_, err = syncURL(t, m, raw, settings)
	t.Logf("503: %v", err)
	if err == nil || remote.IsPermanent(err) || !strings.Contains(err.Error(), "503 Service Unavailable (Retry-After: 120): 503 Service Unavailable Back at 10:00. Sorry.") || !strings.Contains(err.Error(), "Sorry.…") || strings.Contains(err.Error(), "body{") {
		t.Errorf("503: %v", err)
	}
	if reqs := srv.take(); len(reqs) != 3 {
		t.Errorf("requests: %v", reqs)
	}
	if b := readFile(t, filepath.Join(localDir(t, m, raw), "export.csv")); b != "v1\n" {
		t.Errorf("earlier copy: %q", b)
	}
	noPartial(t, m)
}

// TestCutBody: a body cut in the middle (its Content-Length not reached,
// or its chunks not ended) is an error, and the earlier copy stays.
func TestCutBody(t *testing.T) {
	for _, tc := range []struct{ name, head, body string }{
		{"content-length", "Content-Length: 10000\r\n", strings.Repeat("x", 100)},
		{"chunked", "Transfer-Encoding: chunked\r\n", "64\r\n" + strings.Repeat("x", 100) + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			cut := false
			srv, settings := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				c := cut
				mu.Unlock()
				if !c {
					w.Header().Set("ETag", `"1"`)
					io.WriteString(w, "complete\n")
					return
				}
				conn, buf, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				defer conn.Close()
				fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nETag: \"2\"\r\n%s\r\n%s", tc.head, tc.body)
				buf.Flush()
			})
			raw := srv.URL + "/export.csv"
			m := newMirror(t)
			if _, err := syncURL(t, m, raw, settings); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			cut = true
			mu.Unlock()
			_, err := syncURL(t, m, raw, settings)
			t.Logf("cut: %v", err)
			if err == nil || !strings.Contains(err.Error(), "the download was cut after 100") || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("cut body: %v", err)
			}
			if b := readFile(t, filepath.Join(localDir(t, m, raw), "export.csv")); b != "complete\n" {
				t.Errorf("earlier copy: %q", b)
			}
			noPartial(t, m)
		})
	}
}

// TestUntrustedCertificate: without ca_file, the test server's certificate
// is not trusted: a permanent error that says to set ca_file.
func TestUntrustedCertificate(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {})
	_, err := syncURL(t, newMirror(t), srv.URL+"/export.csv", remote.Settings{})
	t.Logf("untrusted: %v", err)
	if err == nil || !remote.IsPermanent(err) || !strings.Contains(err.Error(), "ca_file") || !strings.Contains(err.Error(), "not trusted") {
		t.Errorf("untrusted certificate: %v", err)
	}
	if reqs := srv.take(); len(reqs) != 0 {
		t.Errorf("requests: %v", reqs)
	}
}

// TestOpenRefusesBadSettings: a CA file missing or without a certificate,
// and headers that cannot be sent, are refused at Open, naming the file or
// the header but never a header's value.
func TestOpenRefusesBadSettings(t *testing.T) {
	loc, err := remote.Parse("https://example.com/exports/a.csv")
	if err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	missing := filepath.Join(t.TempDir(), "nope.pem")
	for _, tc := range []struct {
		s    remote.Settings
		want string
	}{
		{remote.Settings{CAFile: missing}, missing},
		{remote.Settings{CAFile: notPEM}, notPEM + ": no PEM certificate"},
		{remote.Settings{Headers: map[string]string{"Authorization": "Bearer a\nb"}}, "the value of Authorization"},
		{remote.Settings{Headers: map[string]string{"Authorization": ""}}, "Authorization is empty"},
		{remote.Settings{Headers: map[string]string{"bad header": "x"}}, `"bad header" is not a valid header name`},
		{remote.Settings{Headers: map[string]string{"if-none-match": "x"}}, "If-None-Match is set by the https store"},
		{remote.Settings{Timeout: -time.Second}, "remote.timeout"},
	} {
		_, err := remote.Open(context.Background(), loc, tc.s)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "Bearer") {
			t.Errorf("%+v: %v, want %q", tc.s, err, tc.want)
		}
	}
	if !slices.Contains(remote.Schemes(), "https") {
		t.Errorf("https not registered: %v", remote.Schemes())
	}
}

// TestTimeout: the timeout bounds the wait for an answer and each wait for
// more of the body, not a download that keeps flowing; a stall is tried
// again.
func TestTimeout(t *testing.T) {
	srv, settings := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		pause := 40 * time.Millisecond
		if r.URL.Path == "/stall.csv" {
			pause = time.Second
		}
		for i := 0; i < 5; i++ {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(pause):
			}
			io.WriteString(w, "x")
			w.(http.Flusher).Flush()
		}
	})
	settings.Timeout = 150 * time.Millisecond
	m := newMirror(t)
	if _, err := syncURL(t, m, srv.URL+"/slow.csv", settings); err != nil {
		t.Errorf("a download that keeps flowing for longer than the timeout: %v", err)
	}
	srv.take()
	_, err := syncURL(t, m, srv.URL+"/stall.csv", settings)
	if err == nil || !strings.Contains(err.Error(), "nothing received for 150ms") || remote.IsPermanent(err) {
		t.Errorf("stall: %v", err)
	}
	time.Sleep(50 * time.Millisecond) // the handlers notice the client left
	if reqs := srv.take(); len(reqs) != 3 {
		t.Errorf("a stall is tried again: %v", reqs)
	}
}

// TestListingRefused: an answer that is not an HTML listing (another
// content type, a page without links) is a permanent error, and the copies
// kept are not removed as if the folder were empty.
func TestListingRefused(t *testing.T) {
	var mu sync.Mutex
	page, ctype := `<pre><a href="a.csv">a.csv</a></pre>`, "text/html"
	srv, settings := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/d/a.csv" {
			io.WriteString(w, "a\n")
			return
		}
		w.Header().Set("Content-Type", ctype)
		io.WriteString(w, page)
	})
	raw := srv.URL + "/d/*.csv"
	m := newMirror(t)
	if got, err := syncURL(t, m, raw, settings); err != nil || got.Fetched != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	for _, tc := range []struct{ page, ctype, want string }{
		{`{"files": ["a.csv"]}`, "application/json", "the answer is application/json, not an HTML directory listing"},
		{`<html><body><h1>Maintenance</h1></body></html>`, "text/html", "the page has no links"},
	} {
		mu.Lock()
		page, ctype = tc.page, tc.ctype
		mu.Unlock()
		got, err := syncURL(t, m, raw, settings)
		if err == nil || !remote.IsPermanent(err) || !strings.Contains(err.Error(), tc.want) || got.Removed != 0 {
			t.Errorf("%s: %+v %v", tc.ctype, got, err)
		}
	}
	if b := readFile(t, filepath.Join(localDir(t, m, raw), "a.csv")); b != "a\n" {
		t.Errorf("copy: %q", b)
	}
}
