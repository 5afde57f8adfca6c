// Package https is the remote store of export files on a web server
// (https:// paths of a csvexport source).
//
// A URL whose file name has no wildcard is one file
// (https://host/folder/export.csv?token=...): it is fetched as written,
// query string included, and is not listed first (a missing file shows as
// a 404 on the fetch).
//
// A file name with wildcards (https://host/folder/activity_*.csv) lists
// the folder: the store GETs https://host/folder/ (with the URL's query
// string, if any) and reads it as an HTML directory listing, as Apache's
// and nginx's autoindex write it, or any page of <a href> links. The
// files are the links to a plain file name in that folder: relative
// links, or absolute paths and URLs into the same folder of the same host;
// links to subfolders (a trailing slash), to the parent folder, to other
// folders or hosts, and links with a query string (Apache's sort links)
// are not files. A page without any link is refused rather than read as
// an empty folder (whose copies the mirror would remove).
//
// Every fetch is a conditional GET: If-None-Match with the ETag of the
// copy kept, If-Modified-Since with its Last-Modified; a 304 answer keeps
// the copy. A server that sends neither header has every file fetched
// again at each sync. Bodies are fetched with gzip when the server offers
// it, and stored decompressed.
//
// The remote settings used are headers (sent with every request, e.g. an
// Authorization header), ca_file (certificate authorities trusted besides
// the system's) and timeout (default 5 minutes: the longest wait for an
// answer, then for more of its body; a download that keeps flowing is not
// cut however long it takes).
//
// Limits and safeguards: plain http is refused, and so is a redirect to
// it; a redirect to another host (or port) does not carry the configured
// headers, and no redirect carries a Referer (it would show the query
// string); query strings are shown with their values hidden in messages;
// a body cut short is an error when the server announced its length or
// sent it chunked (a body delimited only by the end of the connection
// cannot be told from a cut one); sizes and times in listings are not
// read; a <base href> in a listing is not followed.
package https

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/uptake-dev/uptake/connectors/remote"
)

func init() { remote.Register("https", Open) }

// userAgent names the tool to the server (some firewalls refuse Go's
// default); a User-Agent in the headers setting replaces it.
const userAgent = "uptake (remote https)"

// managed are the headers the store sets itself, refused in the settings.
var managed = map[string]bool{
	"Host": true, "If-None-Match": true, "If-Modified-Since": true, "Range": true,
	"Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Accept-Encoding": true,
}

// Open connects to the folder of loc (an https:// location) with the
// headers, ca_file and timeout of s. It makes no request: a missing or
// invalid CA file or header is reported here, the server's faults on
// List and Fetch.
func Open(ctx context.Context, loc remote.Location, s remote.Settings) (remote.Store, error) {
	if loc.Scheme != "https" {
		return nil, fmt.Errorf("the https store cannot open a %s:// location", loc.Scheme)
	}
	if loc.Host == "" || loc.Pattern == "" {
		return nil, fmt.Errorf("the https store needs a host and a file name or pattern")
	}
	if s.Timeout < 0 {
		return nil, fmt.Errorf("remote.timeout is %s; it must be positive (0 for the default, %s)", s.Timeout, remote.DefaultTimeout)
	}
	headers := http.Header{}
	for k, v := range s.Headers {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, fmt.Errorf("remote.headers: %q is not a valid header name", k)
		}
		key := http.CanonicalHeaderKey(k)
		if managed[key] {
			return nil, fmt.Errorf("remote.headers: %s is set by the https store itself; remove it", key)
		}
		if strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("remote.headers: %s is empty (is the variable it comes from set?)", key)
		}
		if !httpguts.ValidHeaderFieldValue(v) {
			// The value is not shown: it is likely a secret.
			return nil, fmt.Errorf("remote.headers: the value of %s has characters a header cannot carry (a line break?)", key)
		}
		headers.Set(key, v)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if s.CAFile != "" {
		pool, err := caPool(s.CAFile)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	st := &store{loc: loc, headers: headers, timeout: s.WaitLimit(), transport: tr}
	st.client = &http.Client{Transport: tr, CheckRedirect: st.checkRedirect}
	st.single = singleURL(loc)
	return st, nil
}

// caPool is the system's certificate authorities and those of the PEM
// file at name.
func caPool(name string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("remote.ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("remote.ca_file %s: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)", name)
	}
	return pool, nil
}

// store is one folder (or one file) of a web server.
type store struct {
	loc       remote.Location
	headers   http.Header
	timeout   time.Duration
	transport *http.Transport
	client    *http.Client
	// single is the URL as configured when it names one file (nil
	// otherwise), fetched exactly as written.
	single *url.URL
}

// singleURL is loc's URL as written when its file name is not a pattern
// (its escaping and query string kept, as a signed URL needs them), nil
// when it is a pattern or the written URL does not match loc.
func singleURL(loc remote.Location) *url.URL {
	if loc.HasWildcard() {
		return nil
	}
	u, err := url.Parse(loc.URL)
	if err != nil || u.Scheme != "https" || u.Host != loc.Host || path.Base(u.Path) != loc.Pattern || u.RawQuery != loc.Query {
		return nil
	}
	u.Fragment, u.RawFragment, u.User = "", "", nil
	return u
}

// folderURL is the URL of loc's folder, with a trailing slash and the
// location's query string.
func (s *store) folderURL() *url.URL {
	p := "/"
	if s.loc.Dir != "" {
		p = "/" + s.loc.Dir + "/"
	}
	return &url.URL{Scheme: "https", Host: s.loc.Host, Path: p, RawQuery: s.loc.Query}
}

// fileURL is the URL of the file name in the folder, with the location's
// query string.
func (s *store) fileURL(name string) *url.URL {
	if s.single != nil && name == s.loc.Pattern {
		u := *s.single
		return &u
	}
	u := s.folderURL()
	u.Path += name
	return u
}

// List returns the files of the folder, read from its HTML listing; for a
// location naming one file, just that file, without a request (the fetch
// is conditional, so asking first would only add a round trip, and a
// signed URL is often valid for GET only).
func (s *store) List(ctx context.Context) ([]remote.Object, error) {
	if !s.loc.HasWildcard() {
		return []remote.Object{{Name: s.loc.Pattern, Size: -1}}, nil
	}
	u := s.folderURL()
	shown := redact(u)
	resp, ex, err := s.get(ctx, u, http.Header{"Accept": {"text/html, application/xhtml+xml;q=0.9, */*;q=0.1"}})
	if err != nil {
		return nil, err
	}
	defer ex.done()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp, shown, true)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "text/html" && mt != "application/xhtml+xml") {
			return nil, remote.Permanent(fmt.Errorf("GET %s: the answer is %s, not an HTML directory listing (only HTML listings, as Apache's and nginx's autoindex write them, are read)", shown, ct))
		}
	}
	bases := []*url.URL{u}
	if resp.Request != nil && resp.Request.URL != nil && resp.Request.URL.String() != u.String() {
		bases = append(bases, resp.Request.URL) // after a redirect, links are relative to where it led
	}
	names, links, err := listingNames(resp.Body, bases)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, remote.Permanent(fmt.Errorf("GET %s: %w", shown, err))
		}
		return nil, fmt.Errorf("GET %s: read the listing: %w", shown, ex.explain(err))
	}
	if links == 0 {
		return nil, remote.Permanent(fmt.Errorf("GET %s: the page has no links, so it is not a directory listing (is directory listing on at the server?)", shown))
	}
	objs := make([]remote.Object, len(names))
	for i, n := range names {
		objs[i] = remote.Object{Name: n, Size: -1}
	}
	return objs, nil
}

// Fetch GETs the file, conditionally on the copy kept (have): a 304
// answer returns unchanged. The version returned is the ETag, the
// Last-Modified time and the Content-Length (-1 when not given).
func (s *store) Fetch(ctx context.Context, obj remote.Object, have remote.Version, w io.Writer) (remote.Version, bool, error) {
	u := s.fileURL(obj.Name)
	shown := redact(u)
	hdr := http.Header{}
	if have.Version != "" {
		hdr.Set("If-None-Match", have.Version)
	}
	if !have.Modified.IsZero() {
		hdr.Set("If-Modified-Since", have.Modified.UTC().Format(http.TimeFormat))
	}
	resp, ex, err := s.get(ctx, u, hdr)
	if err != nil {
		return remote.Version{}, false, err
	}
	defer ex.done()
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNonAuthoritativeInfo:
	case http.StatusNotModified:
		if len(hdr) == 0 {
			return remote.Version{}, false, remote.Permanent(fmt.Errorf("GET %s: the server answers 304 Not Modified to a request that asked for the file unconditionally", shown))
		}
		return have, true, nil
	default:
		return remote.Version{}, false, statusError(resp, shown, false)
	}
	got := remote.Version{Version: resp.Header.Get("ETag"), Size: resp.ContentLength}
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			got.Modified = t.UTC()
		}
	}
	rd := &countingReader{r: resp.Body}
	if _, err := io.Copy(w, rd); err != nil {
		if rd.err != nil {
			of := ""
			if got.Size >= 0 {
				of = fmt.Sprintf(" of %d", got.Size)
			}
			return remote.Version{}, false, fmt.Errorf("GET %s: the download was cut after %d%s bytes: %w", shown, rd.n, of, ex.explain(rd.err))
		}
		return remote.Version{}, false, fmt.Errorf("GET %s: write the copy: %w", shown, err)
	}
	return got, false, nil
}

// Close closes the idle connections.
func (s *store) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// checkRedirect follows up to 10 redirects, never to plain http, without
// a Referer, and drops the configured headers on one to another host (or
// port): Go's client drops Authorization there, but not the other headers
// (an API key).
func (s *store) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return remote.Permanent(errors.New("stopped after 10 redirects"))
	}
	if req.URL.Scheme != "https" {
		return remote.Permanent(fmt.Errorf("redirected to %s: plain http is refused (the export and any credentials would travel in clear)", redact(req.URL)))
	}
	// Go's client sends the previous URL as Referer, query string (a
	// token, a signature) included.
	req.Header.Del("Referer")
	if !sameHost(req.URL, via[0].URL) {
		for k := range s.headers {
			if k != "User-Agent" {
				req.Header.Del(k)
			}
		}
	}
	return nil
}

// sameHost tells whether a and b are the same host and port.
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(hostPort(a), hostPort(b))
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	return u.Hostname() + ":" + port
}
