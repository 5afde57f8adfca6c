// Package sftpserver is an SSH server with SFTP, in process, for tests:
// it serves a folder on disk, read-only, to one user logging in by
// password and/or public key, under a freshly generated ed25519 host key,
// on 127.0.0.1. It can cut a connection in the middle of a file, to test
// what a client makes of it.
//
//	srv := sftpserver.Start(t, sftpserver.Config{Root: dir, User: "bob", Password: "pw"})
//	// sftp://bob@<srv.Addr>/... ; known_hosts: srv.KnownHostsLine(); host_key: srv.Fingerprint()
package sftpserver

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Config is what the server serves, and to whom.
type Config struct {
	// Root is the folder served: the server's "/" (read-only).
	Root string
	// User is the only user name accepted (default "test").
	User string
	// Password is the user's password ("" refuses password logins).
	Password string
	// AuthorizedKeys are the public keys the user may log in with.
	AuthorizedKeys []ssh.PublicKey
	// ECDSAHostKey gives the server an ecdsa-sha2-nistp256 host key besides
	// its ed25519 one (x/crypto's clients ask for ECDSA first by default).
	ECDSAHostKey bool
}

// Server is a running server; Start stops it when the test ends.
type Server struct {
	// Addr is the server's address, 127.0.0.1:port.
	Addr string
	// HostKey is the server's ed25519 host key.
	HostKey ssh.PublicKey
	// ECDSAKey is its ECDSA host key, with Config.ECDSAHostKey.
	ECDSAKey ssh.PublicKey

	cfg    Config
	ln     net.Listener
	config *ssh.ServerConfig
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]bool
	cut    cutRule
	opens  map[string]int
	logins int
	closed bool
	stop   chan struct{} // closed by Close: stalled reads end
}

// cutRule cuts (or stalls) the connection reading past byte after of the
// file name.
type cutRule struct {
	name  string
	after int64
	times int // connections still to cut; <0: every one
	stall bool
	eof   bool
}

// Start starts a server for the test t and stops it when t ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.User == "" {
		cfg.User = "test"
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Root = root
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: cfg, HostKey: signer.PublicKey(), conns: map[net.Conn]bool{}, opens: map[string]int{}, stop: make(chan struct{})}
	s.config = &ssh.ServerConfig{}
	if cfg.Password != "" {
		s.config.PasswordCallback = func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == cfg.User && string(pw) == cfg.Password {
				return nil, nil
			}
			return nil, errors.New("wrong user or password")
		}
	}
	if len(cfg.AuthorizedKeys) > 0 {
		s.config.PublicKeyCallback = func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range cfg.AuthorizedKeys {
				if c.User() == cfg.User && string(k.Marshal()) == string(key.Marshal()) {
					return nil, nil
				}
			}
			return nil, errors.New("key not authorized")
		}
	}
	s.config.AddHostKey(signer)
	if cfg.ECDSAHostKey {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := ssh.NewSignerFromKey(key)
		if err != nil {
			t.Fatal(err)
		}
		s.ECDSAKey = signer.PublicKey()
		s.config.AddHostKey(signer)
	}
	if s.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	s.Addr = s.ln.Addr().String()
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Fingerprint is the ed25519 host key's fingerprint, "SHA256:...", as
// ssh-keygen -l prints it (for remote.host_key).
func (s *Server) Fingerprint() string { return ssh.FingerprintSHA256(s.HostKey) }

// KnownHostsLine is the known_hosts line of the server's ed25519 host key.
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey)
}

// Cut makes the server cut the connection (close its TCP socket) when a
// client reads the file name (a path under Root, slash-separated) past its
// first after bytes: the client gets at most those. times connections are
// cut (< 0: every one; 0 ends the rule).
func (s *Server) Cut(name string, after int64, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut = cutRule{name: strings.TrimPrefix(path.Clean("/"+name), "/"), after: after, times: times}
}

// Stall is Cut, but rather than cutting the connection the server stops
// answering the reads of the file past its first after bytes (until the
// server is closed), as a server that hangs.
func (s *Server) Stall(name string, after int64, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut = cutRule{name: strings.TrimPrefix(path.Clean("/"+name), "/"), after: after, times: times, stall: true}
}

// EndEarly is Cut, but rather than cutting the connection the server
// answers the reads of the file past its first after bytes with an end of
// file, as if the file were shorter than its size says.
func (s *Server) EndEarly(name string, after int64, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut = cutRule{name: strings.TrimPrefix(path.Clean("/"+name), "/"), after: after, times: times, eof: true}
}

// Opens is how many times the file name (a path under Root,
// slash-separated) was opened for reading.
func (s *Server) Opens(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens[strings.TrimPrefix(path.Clean("/"+name), "/")]
}

// Logins is how many connections logged in.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Close stops the server and cuts its connections.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.stop)
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[nc] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(nc)
	}
}

// serve runs one connection: the handshake, then the sessions' sftp
// subsystems.
func (s *Server) serve(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		nc.Close()
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
	}()
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.config)
	if err != nil {
		return
	}
	defer sc.Close()
	s.mu.Lock()
	s.logins++
	s.mu.Unlock()
	go ssh.DiscardRequests(reqs)
	var sessions sync.WaitGroup
	defer sessions.Wait()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		sessions.Add(1)
		go func() {
			defer sessions.Done()
			s.session(nc, ch, creqs)
		}()
	}
}

// session serves the sftp subsystem on ch, and refuses anything else.
func (s *Server) session(nc net.Conn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var done sync.WaitGroup
	defer done.Wait()
	started := false
	for req := range reqs {
		ok := false
		if req.Type == "subsystem" && !started && len(req.Payload) > 4 && string(req.Payload[4:]) == "sftp" {
			ok, started = true, true
			h := &handler{srv: s, conn: nc, cut: make(chan struct{})}
			rs := sftp.NewRequestServer(ch, sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h})
			done.Add(1)
			go func() {
				defer done.Done()
				rs.Serve()
				rs.Close()
			}()
		}
		req.Reply(ok, nil)
	}
}

// handler serves Root read-only to one connection.
type handler struct {
	srv  *Server
	conn net.Conn
	hit  bool          // the connection is cut, stalled or ends files early (under srv.mu)
	cut  chan struct{} // closed once cut
}

// local is the file on disk of the request's path, and that path under
// Root, slash-separated.
func (h *handler) local(p string) (string, string) {
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	return filepath.Join(h.srv.cfg.Root, filepath.FromSlash(rel)), rel
}

func (h *handler) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	p, rel := h.local(r.Filepath)
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || fi.IsDir() {
		f.Close()
		return nil, sftp.ErrSSHFxFailure
	}
	h.srv.mu.Lock()
	h.srv.opens[rel]++
	h.srv.mu.Unlock()
	return &reader{f: f, name: rel, h: h}, nil
}

func (h *handler) Filewrite(*sftp.Request) (io.WriterAt, error) {
	return nil, sftp.ErrSSHFxPermissionDenied
}

func (h *handler) Filecmd(*sftp.Request) error { return sftp.ErrSSHFxPermissionDenied }

func (h *handler) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	p, _ := h.local(r.Filepath)
	switch r.Method {
	case "List":
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		var out lister
		for _, e := range entries {
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, fi)
		}
		return out, nil
	case "Stat":
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		return lister{fi}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

// Lstat answers lstat requests (a link as itself).
func (h *handler) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	p, _ := h.local(r.Filepath)
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	return lister{fi}, nil
}

type lister []os.FileInfo

func (l lister) ListAt(out []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(out, l[off:])
	if n < len(out) {
		return n, io.EOF
	}
	return n, nil
}

// reader reads a file for a client, cutting its connection as told.
type reader struct {
	f    *os.File
	name string
	h    *handler
}

// ReadAt reads the file, unless the read reaches past the cut: it then
// waits for the cut (or, stalled, for the server's end). The cut comes a
// moment after the first such read, so that the answers to the reads
// before it have left: the client gets the file up to the last whole read
// before the cut, then the connection ends.
func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	s, h := r.h.srv, r.h
	s.mu.Lock()
	c := s.cut
	hit := c.name == r.name && off+int64(len(p)) > c.after && (h.hit || c.times != 0)
	if hit && !h.hit {
		h.hit = true
		if s.cut.times > 0 {
			s.cut.times--
		}
		if !c.stall && !c.eof {
			time.AfterFunc(20*time.Millisecond, func() {
				h.conn.Close()
				close(h.cut)
			})
		}
	}
	s.mu.Unlock()
	switch {
	case !hit:
		return r.f.ReadAt(p, off)
	case c.eof:
		return 0, io.EOF
	}
	select {
	case <-h.cut:
	case <-s.stop:
	}
	return 0, io.ErrUnexpectedEOF
}

func (r *reader) Close() error { return r.f.Close() }

// NewKey makes an ed25519 key pair for a client: the private key in
// OpenSSH PEM form (encrypted with passphrase unless it is ""), and the
// public key for Config.AuthorizedKeys.
func NewKey(t testing.TB, passphrase string) (string, ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block)), sshPub
}
