package sftp

// The connection: dialled on first use and again when lost, with the host
// key check and a stall limit on each operation.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/uptake-dev/uptake/connectors/remote"
)

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
