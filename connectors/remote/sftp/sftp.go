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
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/uptake-dev/uptake/connectors/remote"
)

func init() { remote.Register("sftp", Open) }

// DefaultTimeout bounds each operation when remote.timeout is not set.
const DefaultTimeout = 5 * time.Minute

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
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
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

// expandHome reads a leading ~/ in a file name as the home folder.
func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}

// authMethods are the ways to log in that the settings give, the key then
// the password, and their names for messages.
func authMethods(s remote.Settings) ([]ssh.AuthMethod, string, error) {
	var methods []ssh.AuthMethod
	var names []string
	signer, err := privateKey(s)
	if err != nil {
		return nil, "", err
	}
	if signer != nil {
		methods = append(methods, ssh.PublicKeys(signer))
		names = append(names, "the private key "+ssh.FingerprintSHA256(signer.PublicKey()))
	}
	if pw := s.Password; pw != "" {
		names = append(names, "the password")
		methods = append(methods, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				if len(questions) > 1 {
					return nil, fmt.Errorf("the server asks %d questions; only a password can be answered", len(questions))
				}
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 {
		return nil, "", errors.New("no credentials for the SFTP server: set remote.private_key or remote.key_file (a private key), and/or remote.password, each best from the environment (${VAR})")
	}
	return methods, strings.Join(names, " and "), nil
}

// privateKey reads the configured private key (nil when there is none).
func privateKey(s remote.Settings) (ssh.Signer, error) {
	var pemBytes []byte
	var what string
	switch {
	case s.PrivateKey != "" && s.KeyFile != "":
		return nil, errors.New("set remote.private_key or remote.key_file, not both")
	case s.PrivateKey != "":
		what = "remote.private_key"
		text := s.PrivateKey
		if !strings.Contains(text, "\n") && strings.Contains(text, `\n`) {
			// A key squeezed onto one line by a secret store.
			text = strings.ReplaceAll(text, `\n`, "\n")
		}
		pemBytes = []byte(text)
	case s.KeyFile != "":
		p, err := expandHome(s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("remote.key_file: %w", err)
		}
		what = "remote.key_file " + p
		if pemBytes, err = os.ReadFile(p); err != nil {
			return nil, fmt.Errorf("read the private key: %w", err)
		}
	default:
		return nil, nil
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		if s.KeyPassphrase == "" {
			return nil, fmt.Errorf("the private key (%s) is encrypted: set remote.key_passphrase", what)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pemBytes, []byte(s.KeyPassphrase))
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, fmt.Errorf("remote.key_passphrase does not decrypt the private key (%s)", what)
		}
		if err != nil {
			return nil, fmt.Errorf("decrypt the private key (%s): %w", what, err)
		}
	case err != nil:
		return nil, fmt.Errorf("read the private key (%s; a PEM or OpenSSH private key is expected, not the .pub file): %w", what, err)
	}
	return signer, nil
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

// do runs op on the connection, dialled again if it was lost. The
// connection is dropped when ctx ends or op makes no progress for the
// timeout (listing: no answer; fetching: no byte); op's error then says so.
func (s *Store) do(ctx context.Context, op func(ctx context.Context, c *conn, moved func()) error) error {
	c, err := s.connection(ctx)
	if err != nil {
		return err
	}
	var timedOut atomic.Bool
	timer := time.AfterFunc(s.timeout, func() {
		timedOut.Store(true)
		c.close()
	})
	stop := context.AfterFunc(ctx, c.close)
	err = op(ctx, c, func() { timer.Reset(s.timeout) })
	timer.Stop()
	stop()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted: %w (%v)", ctx.Err(), err)
	case timedOut.Load():
		return fmt.Errorf("no progress from %s in %s (remote.timeout); the connection was dropped and the next try dials again", s.addr, s.timeout)
	}
	return err
}

// connection is the open connection, dialled anew when it was lost.
func (s *Store) connection(ctx context.Context) (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("sftp store used after Close")
	}
	if s.conn != nil {
		select {
		case <-s.conn.dead:
			s.conn.close()
			s.conn = nil
		default:
			return s.conn, nil
		}
	}
	c, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	s.conn = c
	return c, nil
}

// Close ends the SFTP session and the SSH connection.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.conn != nil {
		s.conn.close()
		s.conn = nil
	}
	return nil
}

// dial connects, checks the host key, logs in and starts SFTP, all within
// the timeout. With a pinned key, a server offering several host keys is
// asked again for each of its other kinds until one matches the pin.
func (s *Store) dial(ctx context.Context) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	algos := s.keys.algorithms
	var presented []ssh.PublicKey
	for {
		c, key, err := s.dialOnce(dctx, algos)
		if err == nil {
			return c, nil
		}
		if ctx.Err() == nil && dctx.Err() != nil {
			// Out of time, but not out of the caller's: worth another try.
			return nil, fmt.Errorf("connect to %s: no answer within %s (remote.timeout)", s.addr, s.timeout)
		}
		var hk *hostKeyError
		switch {
		case errors.As(err, &hk):
			presented = append(presented, key)
			if s.keys.pin != "" {
				// Ask for another kind of key than those seen.
				if algos = without(algos, key.Type()); len(algos) > 0 {
					continue
				}
			}
			hk.presented = presented
			return nil, remote.Permanent(hk)
		case strings.Contains(err.Error(), "no common algorithm for host key"):
			if s.keys.pin == "" && algos != nil {
				// The server has no key of the kinds known_hosts lists:
				// ask for any, to name it in the mismatch.
				algos = nil
				continue
			}
			if len(presented) > 0 {
				return nil, remote.Permanent(&hostKeyError{addr: s.addr, keys: s.keys, presented: presented})
			}
			return nil, remote.Permanent(fmt.Errorf("ssh handshake with %s: %w", s.addr, err))
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, remote.Permanent(fmt.Errorf("the SFTP server %s refused to log in user %q with %s: check the credentials (remote.password, remote.private_key or remote.key_file) and the user name in the URL (%v)",
				s.addr, s.loc.User, s.creds, err))
		}
		return nil, err
	}
}

// without drops from algos those of keys of type keyType.
func without(algos []string, keyType string) []string {
	return slices.DeleteFunc(slices.Clone(algos), func(a string) bool { return keyFormat(a) == keyType })
}

// dialOnce makes one connection, offering the host key algorithms algos
// (nil: x/crypto's defaults). It returns the host key the server presented.
func (s *Store) dialOnce(ctx context.Context, algos []string) (_ *conn, presented ssh.PublicKey, err error) {
	cfg := s.config
	cfg.HostKeyAlgorithms = algos
	cfg.HostKeyCallback = func(hostname string, addr net.Addr, key ssh.PublicKey) error {
		presented = key
		return s.keys.check(hostname, addr, key)
	}
	d := net.Dialer{Timeout: s.timeout}
	nc, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", s.addr, err)
	}
	// Until SFTP runs, the connection is closed when ctx ends (the
	// handshake and SFTP's start read it without a context).
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	ok := false
	defer func() {
		if !ok {
			nc.Close()
		}
	}()
	if deadline, has := ctx.Deadline(); has {
		nc.SetDeadline(deadline)
	}
	sc, chans, reqs, err := ssh.NewClientConn(nc, s.addr, &cfg)
	if err != nil {
		var hk *hostKeyError
		if errors.As(err, &hk) {
			return nil, presented, hk
		}
		return nil, presented, fmt.Errorf("ssh handshake with %s: %w", s.addr, err)
	}
	client := ssh.NewClient(sc, chans, reqs)
	sc2, err := sftp.NewClient(client, sftp.UseFstat(true))
	if err != nil {
		if strings.Contains(err.Error(), "subsystem request failed") {
			return nil, presented, remote.Permanent(fmt.Errorf("%s does not offer SFTP to user %q: %w", s.addr, s.loc.User, err))
		}
		return nil, presented, fmt.Errorf("start SFTP on %s: %w", s.addr, err)
	}
	if !stop() {
		sc2.Close()
		return nil, presented, fmt.Errorf("connect to %s: %w", s.addr, ctx.Err())
	}
	nc.SetDeadline(time.Time{})
	ok = true
	c := &conn{ssh: client, sftp: sc2, dead: make(chan struct{})}
	var once sync.Once
	c.close = func() {
		once.Do(func() {
			client.Close() // first, so that no read of the session can hang
			sc2.Close()
		})
	}
	go func() {
		client.Wait()
		close(c.dead)
	}()
	return c, presented, nil
}

// hostKeys checks the server's host key: against its pinned fingerprint,
// or against known_hosts.
type hostKeys struct {
	host, port string
	// pin is the pinned fingerprint, "SHA256:" and unpadded base64.
	pin string
	// file is the known_hosts file; known its callback.
	file  string
	known ssh.HostKeyCallback
	// algorithms are the host key algorithms to ask for: those of the
	// keys known_hosts lists for the host, so that the server presents
	// one of them (nil: x/crypto's defaults); with a pin, every plain kind.
	algorithms []string
}

// plainAlgorithms are the host key algorithms of plain keys, preferred
// first.
var plainAlgorithms = []string{
	ssh.KeyAlgoED25519,
	ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA,
}

// keyFormat is the key type of a host key algorithm.
func keyFormat(algo string) string {
	switch algo {
	case ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512:
		return ssh.KeyAlgoRSA
	}
	return algo
}

func newHostKeys(s remote.Settings, addr, host, port string) (*hostKeys, error) {
	h := &hostKeys{host: host, port: port}
	if s.HostKey != "" {
		pin := strings.TrimRight(strings.TrimSpace(s.HostKey), "=")
		if !strings.HasPrefix(pin, "SHA256:") || len(pin) != len("SHA256:")+43 {
			return nil, fmt.Errorf("remote.host_key %q is not a SHA256 fingerprint as ssh-keygen -l prints it (SHA256: then 43 characters); get the server's with ssh-keyscan -p %s %s | ssh-keygen -lf - and check it with the server's administrator", s.HostKey, port, host)
		}
		h.pin = pin
		h.algorithms = plainAlgorithms
		return h, nil
	}
	file := s.KnownHosts
	if file == "" {
		file = "~/.ssh/known_hosts"
	}
	file, err := expandHome(file)
	if err != nil {
		return nil, fmt.Errorf("remote.known_hosts: %w", err)
	}
	h.file = file
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the known_hosts file %s does not exist, and the SFTP server's host key must be known before connecting: add it with  ssh-keyscan -p %s %s >> %s  (then check the fingerprints  ssh-keygen -lf %s  prints with the server's administrator), or pin its fingerprint as remote.host_key: \"SHA256:...\"",
			file, port, host, file, file)
	}
	if h.known, err = knownhosts.New(file); err != nil {
		return nil, fmt.Errorf("read the known_hosts file: %w", err)
	}
	h.algorithms = h.knownAlgorithms(addr)
	return h, nil
}

// knownAlgorithms are the algorithms of the keys known_hosts lists for
// addr, found by checking a key that cannot be there (nil when none).
func (h *hostKeys) knownAlgorithms(addr string) []string {
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if err := h.known(addr, &net.TCPAddr{IP: net.IPv4zero}, probe); !errors.As(err, &ke) || len(ke.Want) == 0 {
		return nil
	}
	types := map[string]bool{}
	for _, k := range ke.Want {
		types[k.Key.Type()] = true
	}
	var out []string
	for _, a := range plainAlgorithms {
		if types[keyFormat(a)] {
			out = append(out, a)
		}
	}
	for _, k := range ke.Want { // kinds not in plainAlgorithms, in file order
		t := k.Key.Type()
		plain := slices.ContainsFunc(plainAlgorithms, func(a string) bool { return keyFormat(a) == t })
		if !plain && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// check accepts key when it is the pinned one or known_hosts lists it for
// hostname.
func (h *hostKeys) check(hostname string, addr net.Addr, key ssh.PublicKey) error {
	if h.pin != "" {
		if ssh.FingerprintSHA256(key) == h.pin {
			return nil
		}
		return &hostKeyError{addr: hostname, keys: h}
	}
	err := h.known(hostname, addr, key)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &ke):
		return &hostKeyError{addr: hostname, keys: h, want: ke.Want}
	case errors.As(err, &re):
		return &hostKeyError{addr: hostname, keys: h, revoked: re}
	}
	return err
}

// hostKeyError is a host key that is not the one expected.
type hostKeyError struct {
	addr      string
	keys      *hostKeys
	presented []ssh.PublicKey
	want      []knownhosts.KnownKey // known_hosts' keys for the host; none: unknown
	revoked   *knownhosts.RevokedError
}

func describe(k ssh.PublicKey) string { return k.Type() + " " + ssh.FingerprintSHA256(k) }

func (e *hostKeyError) Error() string {
	var got []string
	for _, k := range e.presented {
		got = append(got, describe(k))
	}
	presented := strings.Join(got, ", then ")
	if presented == "" {
		presented = "no key"
	}
	h := e.keys
	const intercept = "If the server's key changed, check the new fingerprint with its administrator before trusting it; otherwise someone may be intercepting the connection. Nothing was fetched."
	switch {
	case h.pin != "":
		return fmt.Sprintf("SFTP host key mismatch for %s: the server presented %s, but remote.host_key pins %s. %s", e.addr, presented, h.pin, intercept)
	case e.revoked != nil:
		return fmt.Sprintf("SFTP host key of %s is revoked: the server presented %s, marked @revoked in %s:%d. Nothing was fetched.", e.addr, presented, e.revoked.Revoked.Filename, e.revoked.Revoked.Line)
	case len(e.want) == 0:
		fp := "SHA256:..."
		if len(e.presented) > 0 {
			fp = ssh.FingerprintSHA256(e.presented[len(e.presented)-1])
		}
		return fmt.Sprintf("SFTP host %s is not in the known_hosts file %s (the server presented %s): once its administrator has confirmed that fingerprint, add the key with  ssh-keyscan -p %s %s >> %s  or pin it as remote.host_key: %q. Nothing was fetched.",
			e.addr, h.file, presented, h.port, h.host, h.file, fp)
	}
	var want []string
	for _, k := range e.want {
		want = append(want, fmt.Sprintf("%s (%s:%d)", describe(k.Key), k.Filename, k.Line))
	}
	return fmt.Sprintf("SFTP host key mismatch for %s: the server presented %s, but the known_hosts file expects %s. %s", e.addr, presented, strings.Join(want, ", "), intercept)
}
