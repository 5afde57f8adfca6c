// Package sftp reads export files from an SFTP server
// (sftp://user@host[:port]/folder/pattern) with github.com/pkg/sftp over
// golang.org/x/crypto/ssh.
//
// What is supported:
//
//   - Authentication by private key (remote.private_key, the PEM text, or
//     remote.key_file, a file; remote.key_passphrase decrypts an encrypted
//     key) and/or by password (remote.password; a keyboard-interactive
//     prompt for it is answered too). At least one is required. The user
//     name is the URL's (sftp://user@host/...); the port defaults to 22.
//   - The server's host key is always checked, never skipped: against an
//     OpenSSH known_hosts file (remote.known_hosts, default
//     ~/.ssh/known_hosts), or against a fingerprint pinned in
//     remote.host_key ("SHA256:..." as ssh-keygen -l prints it). An
//     unknown or different key, a refused login, a missing folder or file
//     are permanent errors: the mirror does not retry them.
//   - The URL's path is absolute on the server (sftp://host/in/x.csv reads
//     /in); a path starting with ~ is relative to the login folder
//     (sftp://host/~/in/x.csv), as curl reads it.
//   - List returns the regular files of the folder, and the symbolic links
//     to regular files (as their target); subfolders are not read. A file's
//     version is its size and modification time.
//   - Each Store holds one SSH connection, dialled by Open and closed by
//     Close; a connection lost (cut, timed out) is dialled again by the
//     next call, so the mirror's retries can mend it. Timeout (default 5
//     minutes) bounds the dial and handshake, a listing, and the wait for
//     each byte of a file (a download may take longer, as long as it moves).
//
// Limits: SFTP times have a one-second resolution, so a file rewritten
// within the same second with the same size is not seen as changed; a cut
// download is fetched again from its start (no resume); ssh-agent,
// ~/.ssh/config, proxies and jump hosts are not used.
package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/uptake-dev/uptake/connectors/remote"
)

func init() { remote.Register("sftp", Open) }

// Store is one folder of an SFTP server, over one SSH connection.
type Store struct {
	loc     remote.Location
	addr    string // host:port as dialled and as looked up in known_hosts
	dir     string // the folder on the server ("/in", or "in" under the login folder)
	config  ssh.ClientConfig
	keys    *hostKeys
	creds   string // what is tried to log in, for messages
	timeout time.Duration

	mu     sync.Mutex
	conn   *conn // nil before the first dial and once lost
	closed bool
}

// conn is one SSH connection and the SFTP session on it.
type conn struct {
	ssh   *ssh.Client
	sftp  *sftp.Client
	dead  chan struct{} // closed once the SSH connection has ended
	close func()
}

// Open checks the settings and connects to the folder of loc.
func Open(ctx context.Context, loc remote.Location, s remote.Settings) (remote.Store, error) {
	st, err := newStore(loc, s)
	if err != nil {
		return nil, err
	}
	c, err := st.dial(ctx)
	if err != nil {
		return nil, err
	}
	st.conn = c
	return st, nil
}

// newStore checks loc and s and prepares the connection's settings.
func newStore(loc remote.Location, s remote.Settings) (*Store, error) {
	if loc.Scheme != "sftp" {
		return nil, remote.Permanent(fmt.Errorf("not an sftp:// location: %s", loc.URL))
	}
	if loc.User == "" {
		example := loc
		example.User = "USER"
		return nil, remote.Permanent(fmt.Errorf("no user name: put it in the URL (%s)", example.FileURL(loc.Pattern)))
	}
	addr, host, port, err := hostPort(loc.Host)
	if err != nil {
		return nil, remote.Permanent(err)
	}
	auth, creds, err := authMethods(s)
	if err != nil {
		return nil, remote.Permanent(err)
	}
	keys, err := newHostKeys(s, addr, host, port)
	if err != nil {
		return nil, remote.Permanent(err)
	}
	timeout := s.WaitLimit()
	st := &Store{
		loc:     loc,
		addr:    addr,
		dir:     serverDir(loc.Dir),
		config:  ssh.ClientConfig{User: loc.User, Auth: auth, Timeout: timeout},
		keys:    keys,
		creds:   creds,
		timeout: timeout,
	}
	return st, nil
}

// hostPort splits the URL's host[:port] and adds the default port.
func hostPort(h string) (addr, host, port string, err error) {
	u, err := url.Parse("sftp://" + h)
	if err != nil || u.Hostname() == "" {
		return "", "", "", fmt.Errorf("bad host %q in the URL", h)
	}
	host, port = u.Hostname(), u.Port()
	if port == "" {
		port = "22"
	}
	return net.JoinHostPort(host, port), host, port, nil
}

// serverDir is the server's path of the URL's folder: absolute, or
// relative to the login folder when it starts with ~.
func serverDir(dir string) string {
	switch {
	case dir == "~":
		return "."
	case strings.HasPrefix(dir, "~/"):
		return strings.TrimPrefix(dir, "~/")
	}
	return "/" + dir
}

// List returns the regular files of the folder (and the links to regular
// files), with their size, time and version.
func (s *Store) List(ctx context.Context) ([]remote.Object, error) {
	var out []remote.Object
	err := s.do(ctx, func(ctx context.Context, c *conn, _ func()) error {
		infos, err := c.sftp.ReadDirContext(ctx, s.dir)
		if err != nil {
			return s.explain(err, "folder", s.dir)
		}
		for _, fi := range infos {
			if fi.Mode()&fs.ModeSymlink != 0 {
				target, err := c.sftp.Stat(path.Join(s.dir, fi.Name()))
				switch {
				case errors.Is(err, fs.ErrNotExist):
					continue // a dangling link
				case errors.Is(err, fs.ErrPermission):
					// Listed as unknown: fetching it, if the pattern
					// matches it, says why it cannot be read.
					out = append(out, remote.Object{Name: fi.Name(), Size: -1})
					continue
				case err != nil:
					return fmt.Errorf("link %s on %s: %w", path.Join(s.dir, fi.Name()), s.addr, err)
				}
				fi = named{target, fi.Name()}
			}
			if !fi.Mode().IsRegular() {
				continue
			}
			out = append(out, remote.Object{
				Name: fi.Name(), Size: fi.Size(), Modified: fi.ModTime().UTC(), Version: version(fi),
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// named is a file's information under another name (a link's target under
// the link's name).
type named struct {
	os.FileInfo
	name string
}

func (n named) Name() string { return n.name }

// version is a file's version: its size and modification time.
func version(fi os.FileInfo) string {
	return fmt.Sprintf("%d-%d", fi.Size(), fi.ModTime().UnixNano())
}

// Fetch writes the content of the file obj to w, unless have is its
// current version. It fails, rather than return fewer bytes, when the
// download ends before the size the server gave when the file was opened.
func (s *Store) Fetch(ctx context.Context, obj remote.Object, have remote.Version, w io.Writer) (remote.Version, bool, error) {
	p := path.Join(s.dir, obj.Name)
	var got remote.Version
	var unchanged bool
	err := s.do(ctx, func(_ context.Context, c *conn, moved func()) error {
		f, err := c.sftp.Open(p)
		if err != nil {
			return s.explain(err, "file", p)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return s.explain(err, "file", p)
		}
		if !fi.Mode().IsRegular() {
			return remote.Permanent(fmt.Errorf("%s on %s is not a regular file (%s)", p, s.addr, fi.Mode()))
		}
		got = remote.Version{Version: version(fi), Modified: fi.ModTime().UTC(), Size: fi.Size()}
		if have.Version != "" && have.Version == got.Version && have.Size == got.Size {
			unchanged = true
			return nil
		}
		n, err := f.WriteTo(&progressWriter{w: w, moved: moved})
		if err != nil {
			return fmt.Errorf("read %s on %s: %w (after %d of %d bytes)", p, s.addr, err, n, got.Size)
		}
		if n != got.Size {
			return fmt.Errorf("read %s on %s: got %d bytes where the server announced %d (cut short, or the file changed while read)", p, s.addr, n, got.Size)
		}
		return nil
	})
	if err != nil {
		return remote.Version{}, false, err
	}
	return got, unchanged, nil
}

// progressWriter tells of each write, which puts off the idle timeout.
type progressWriter struct {
	w     io.Writer
	moved func()
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.moved()
	return p.w.Write(b)
}

// explain words an error about a path of the server, marking as permanent
// those another try cannot mend.
func (s *Store) explain(err error, what, p string) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if what == "folder" {
			return remote.Permanent(fmt.Errorf("folder %s of %s does not exist on %s", p, s.loc.URL, s.addr))
		}
		return remote.Permanent(fmt.Errorf("%s %s does not exist on %s (removed since it was listed?)", what, p, s.addr))
	case errors.Is(err, fs.ErrPermission):
		return remote.Permanent(fmt.Errorf("user %s may not read the %s %s on %s of %s", s.loc.User, what, p, s.addr, s.loc.URL))
	}
	return fmt.Errorf("%s %s on %s: %w", what, p, s.addr, err)
}

// plainAlgorithms are the host key algorithms of plain keys, preferred
// first.
var plainAlgorithms = []string{
	ssh.KeyAlgoED25519,
	ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA,
}
