// Package remote fetches export files from where B2B platforms drop them:
// a Google Cloud Storage bucket (gs://), an SFTP server (sftp://) or a web
// server (https://). A Mirror keeps a local copy of the files a path
// matches, in a folder beside the warehouse, fetching only the files that
// are new or changed; the csvexport source then reads that copy exactly as
// it reads local files, so every rule of local exports applies unchanged.
//
// Each kind of store lives in its own package (remote/gcs, remote/sftp,
// remote/https) and registers itself with Register.
package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// Location is a remote path as written in the config: scheme, host, the
// folder and the file name pattern in it (path.Match syntax; wildcards only
// in the file name).
type Location struct {
	// URL is the path as configured, for messages.
	URL string
	// Scheme is gs, sftp or https.
	Scheme string
	// User is the user name given in the URL (sftp://user@host/...), if any.
	User string
	// Host is the bucket (gs), or host[:port] (sftp, https).
	Host string
	// Dir is the folder, slash-separated, without leading or trailing
	// slashes ("" for the root).
	Dir string
	// Pattern is the file name pattern ("activity_*.csv", or a plain name).
	Pattern string
	// Query is the URL's query string (https only), kept as written.
	Query string
}

// Object is one file of a remote folder, as its store lists it.
type Object struct {
	// Name is the file name in the folder.
	Name string
	// Size is its size in bytes, -1 when the listing does not say.
	Size int64
	// Modified is when it was last written (zero when unknown).
	Modified time.Time
	// Version changes whenever the content does (a GCS generation, an
	// SFTP size and time); "" when the listing cannot tell, and the store
	// then decides on Fetch (an HTTP conditional request).
	Version string
}

// Version is what is known of a fetched file: the version to compare with
// the next listing, and what a conditional request sends back.
type Version struct {
	// Version is the listing's version of the file, or the server's ETag.
	Version string `json:"version,omitempty"`
	// Modified is the file's time at the store (Last-Modified).
	Modified time.Time `json:"modified"`
	// Size is the content's length in bytes as the store announced it
	// before sending it, -1 when unknown (the mirror checks the bytes
	// received against it).
	Size int64 `json:"size"`
}

// Store is one remote folder.
type Store interface {
	// List returns the files of the folder (not of its subfolders).
	List(ctx context.Context) ([]Object, error)
	// Fetch writes the content of the file obj to w and returns its
	// version, unless have (the version of the copy fetched before; zero
	// when there is none) is still current: then it writes nothing and
	// returns unchanged = true.
	Fetch(ctx context.Context, obj Object, have Version, w io.Writer) (got Version, unchanged bool, err error)
	// Close releases the connection.
	Close() error
}

// Settings are the connection settings of a source's remote paths (the
// `remote:` block of a csvexport source). Secrets come from the
// environment through ${VAR} in the config.
type Settings struct {
	// CredentialsFile is the Google service-account key file of `gs://`
	// paths; the account needs the role Storage Object Viewer on the bucket
	// (default: Application Default Credentials).
	CredentialsFile string `yaml:"credentials_file"`
	// Endpoint is another address of the Cloud Storage API for `gs://`
	// paths, reached without credentials, such as `http://localhost:4443`
	// for fake-gcs-server: a base URL with its scheme, `http://host:port`
	// or `https://host`, without the API's path, which uptake adds
	// (`/storage/v1/`; a trailing slash is dropped first). Default:
	// Google's.
	Endpoint string `yaml:"endpoint"`
	// Password is the password of `sftp://` paths, best as `${VAR}` (with
	// or without a private key: at least one of them is needed).
	Password string `yaml:"password"`
	// PrivateKey is the private key of `sftp://` paths, in PEM (OpenSSH)
	// form, best as `${VAR}` (not with `key_file`).
	PrivateKey string `yaml:"private_key"`
	// KeyFile is a file holding the private key of `sftp://` paths (not
	// with `private_key`).
	KeyFile string `yaml:"key_file"`
	// KeyPassphrase is the passphrase of an encrypted private key of
	// `sftp://` paths, best as `${VAR}`.
	KeyPassphrase string `yaml:"key_passphrase"`
	// KnownHosts is the OpenSSH known_hosts file that must list the host
	// key of the server of `sftp://` paths: the key is always checked, and
	// an unknown or different one stops the run (default
	// `~/.ssh/known_hosts`).
	KnownHosts string `yaml:"known_hosts"`
	// HostKey is the fingerprint of the host key of the server of `sftp://`
	// paths (`SHA256:…`, as `ssh-keygen -l` prints it), checked instead of
	// known_hosts.
	HostKey string `yaml:"host_key"`
	// Headers are the headers sent with every request of `https://` paths,
	// such as `{Authorization: "Bearer ${PLATFORM_TOKEN}"}` (default: none).
	Headers map[string]string `yaml:"headers"`
	// CAFile is a PEM file of certificate authorities trusted for `https://`
	// paths besides the system's (a company's own CA).
	CAFile string `yaml:"ca_file"`
	// Timeout bounds the waits of remote paths: the longest a connection,
	// a listing or the wait for an answer may take (for `gs://`, a listing
	// with its retries), and, during a download, the longest the data may
	// stall: a download may take longer while it moves (default 5m).
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultTimeout is remote.timeout's default.
const DefaultTimeout = 5 * time.Minute

// WaitLimit is remote.timeout, or DefaultTimeout when it is not set.
func (s Settings) WaitLimit() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

// Opener connects to the folder of loc.
type Opener func(ctx context.Context, loc Location, s Settings) (Store, error)

var (
	mu      sync.Mutex
	openers = map[string]Opener{}
)

// Register makes scheme's locations open with open; each store package
// calls it in init().
func Register(scheme string, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	openers[scheme] = open
}

// Schemes are the registered schemes, sorted.
func Schemes() []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for s := range openers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Open connects to the folder of loc.
func Open(ctx context.Context, loc Location, s Settings) (Store, error) {
	mu.Lock()
	open := openers[loc.Scheme]
	mu.Unlock()
	if open == nil {
		return nil, fmt.Errorf("%s: no store for %s:// (known: %s)", loc.Redacted(), loc.Scheme, strings.Join(Schemes(), ", "))
	}
	st, err := open(ctx, loc, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", loc.Redacted(), err)
	}
	return st, nil
}

// IsRemote tells whether a configured path is a URL (scheme://...) rather
// than a local file glob.
func IsRemote(p string) bool {
	i := strings.Index(p, "://")
	return i > 0 && !strings.ContainsAny(p[:i], `/\.*?[`)
}

// Parse reads a remote path: gs://bucket/folder/pattern,
// sftp://[user@]host[:port]/folder/pattern or https://host/folder/pattern.
// Wildcards (* ? [...]) may only be in the file name.
func Parse(raw string) (Location, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url's errors quote the whole input, which may hold a secret.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return Location{}, fmt.Errorf("not a URL (%v)", err)
	}
	shown := display(u)
	switch u.Scheme {
	case "gs", "sftp", "https":
	case "http":
		return Location{}, fmt.Errorf("%q: plain http is refused (the export and any credentials would travel in clear); use https", shown)
	default:
		return Location{}, fmt.Errorf("%q: unknown scheme %q (gs://, sftp:// or https://)", shown, u.Scheme)
	}
	if u.Host == "" {
		what := "host"
		if u.Scheme == "gs" {
			what = "bucket"
		}
		return Location{}, fmt.Errorf("%q: no %s in the URL", shown, what)
	}
	loc := Location{URL: raw, Scheme: u.Scheme, Host: u.Host, Query: u.RawQuery}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return Location{}, fmt.Errorf("%q: a password in the URL would be written in the config and the logs; set it as remote.password: ${VAR}", shown)
		}
		if u.Scheme != "sftp" {
			return Location{}, fmt.Errorf("%q: a user name in the URL is only for sftp://", shown)
		}
		loc.User = u.User.Username()
	}
	if u.Fragment != "" {
		return Location{}, fmt.Errorf("%q: a URL fragment (#...) has no meaning here", shown)
	}
	p := strings.Trim(u.Path, "/")
	if p == "" || strings.HasSuffix(u.Path, "/") {
		return Location{}, fmt.Errorf("%q: the URL names a folder; add the file name or a pattern (…/activity_*.csv)", shown)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." || seg == "" {
			return Location{}, fmt.Errorf("%q: a path segment %q is refused (the copies of the files are kept under the same path)", shown, seg)
		}
	}
	dir, pattern := path.Split(p)
	loc.Dir, loc.Pattern = strings.Trim(dir, "/"), pattern
	if strings.ContainsAny(loc.Dir, "*?[") {
		return Location{}, fmt.Errorf("%q: wildcards are only allowed in the file name, not in the folder %q", shown, loc.Dir)
	}
	if _, err := path.Match(loc.Pattern, ""); err != nil {
		return Location{}, fmt.Errorf("%q: bad pattern %q: %w", shown, loc.Pattern, err)
	}
	if loc.Query != "" && loc.Scheme != "https" {
		return Location{}, fmt.Errorf("%q: a query string is only for https://", shown)
	}
	return loc, nil
}

// display is a URL for messages: no password, query values REDACTED.
func display(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = "REDACTED"
		} else {
			for k := range q {
				q[k] = []string{"REDACTED"}
			}
			c.RawQuery = q.Encode()
		}
	}
	c.Fragment = ""
	return c.String()
}

// FileURL is the URL of the file name in loc's folder, for messages.
func (loc Location) FileURL(name string) string {
	u := loc.Scheme + "://"
	if loc.User != "" {
		u += loc.User + "@"
	}
	u += loc.Host + "/"
	if loc.Dir != "" {
		u += loc.Dir + "/"
	}
	return u + name
}

// Redacted is the URL for messages: a query string's values (a token, a
// signature) are replaced by REDACTED.
func (loc Location) Redacted() string {
	u, err := url.Parse(loc.URL)
	if err != nil {
		return loc.FileURL(loc.Pattern)
	}
	return display(u)
}

// HasWildcard tells whether the pattern matches a family of files rather
// than one file.
func (loc Location) HasWildcard() bool { return strings.ContainsAny(loc.Pattern, "*?[") }

// permanentError marks a failure that another attempt cannot mend.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that another attempt cannot mend (a refused
// credential, a missing file, a host key that does not match): the mirror
// does not retry it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent tells whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
