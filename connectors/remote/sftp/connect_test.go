package sftp_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors/remote"
	"github.com/uptake-dev/uptake/connectors/remote/sftp/sftpserver"
)

// TestFirstConnectionRetried: a connection dropped before the SSH
// handshake (a blip of the network, a server restarting) is tried again
// by the mirror, as a failed fetch is; the sync then succeeds.
func TestFirstConnectionRetried(t *testing.T) {
	e := newEnv(t, sftpserver.Config{})
	e.put(t, "activity_2026-09.csv", []byte("date,user_id\n"), time.Now())
	proxy, accepted := dropFirst(t, e.srv.Addr)
	url := strings.Replace(e.url("activity_*.csv"), e.srv.Addr, proxy, 1)
	loc, err := remote.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	// The proxy's address is another host:port for known_hosts: pin the key instead.
	s := e.settings
	s.KnownHosts, s.HostKey = "", e.srv.Fingerprint()
	st, err := e.mirror.Open(context.Background(), loc, s)
	if err != nil {
		t.Fatalf("open through a proxy that drops the first connection = %v", err)
	}
	defer st.Close()
	got, err := e.mirror.Sync(context.Background(), st, loc)
	if err != nil || got.Fetched != 1 {
		t.Fatalf("sync = %+v, %v", got, err)
	}
	if n := accepted.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (the dropped one, then the retry)", n)
	}
}

// dropFirst is a TCP proxy to addr that closes the first connection it
// accepts and forwards the others.
func dropFirst(t *testing.T, addr string) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if n.Add(1) == 1 {
				c.Close()
				continue
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String(), &n
}
