// Package gcstest serves an in-process Google Cloud Storage for tests:
// fake-gcs-server's fakestorage behind an httptest server that can inject
// faults (an HTTP error status, a download cut in the middle). The real
// storage client talks to it through remote.endpoint.
package gcstest

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// Server is a fake Cloud Storage with fault injection.
type Server struct {
	// Fake is the storage itself: create buckets and objects through it.
	Fake *fakestorage.Server
	// URL is what remote.endpoint is set to.
	URL string

	mu       sync.Mutex
	statuses []int          // answered, one each, to the next requests
	cuts     map[string]int // object name → bytes sent before the connection is cut
	requests []string       // method and path of each request
	// downloadStatus, when set, answers every download.
	downloadStatus int
	// paced sends the downloads of an object in pieces: name → pace.
	paced map[string]pace
}

// pace is how a download is sent: piece bytes, then a wait; stallAfter > 0
// stops sending after that many bytes until the client goes away.
type pace struct {
	piece      int
	wait       time.Duration
	stallAfter int
}

// New starts a server that the test stops when it ends.
func New(t testing.TB) *Server {
	t.Helper()
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true, PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Fake: fake, cuts: map[string]int{}, paced: map[string]pace{}}
	ts := httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = ts.URL
	t.Cleanup(func() { ts.Close(); fake.Stop() })
	return s
}

// Put writes an object (a new generation when it exists), dated updated.
func (s *Server) Put(bucket, name, content string, updated time.Time) {
	s.Fake.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: name, Updated: updated},
		Content:     []byte(content),
	})
}

// FailNext makes the next requests answer these statuses, one each.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses = append(s.statuses, statuses...)
}

// FailDownloads makes every download answer status, until Heal.
func (s *Server) FailDownloads(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downloadStatus = status
}

// Slow sends every download of the object whose name ends with name in
// pieces of n bytes, waiting between them, until Heal.
func (s *Server) Slow(name string, n int, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paced[name] = pace{piece: n, wait: wait}
}

// StallAfter sends n bytes of every download of the object whose name ends
// with name, then nothing until the client goes away, until Heal.
func (s *Server) StallAfter(name string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paced[name] = pace{piece: n, stallAfter: n}
}

// CutAfter makes every download of the object whose name ends with name
// stop after n bytes, its connection closed, until Heal.
func (s *Server) CutAfter(name string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cuts[name] = n
}

// Heal ends every injected fault.
func (s *Server) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses, s.cuts, s.downloadStatus, s.paced = nil, map[string]int{}, 0, map[string]pace{}
}

// Downloads counts the requests that read an object's content.
func (s *Server) Downloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if isDownload(r) {
			n++
		}
	}
	return n
}

func isDownload(r string) bool {
	return strings.Contains(r, "alt=media") || (strings.HasPrefix(r, "GET /") && !strings.Contains(r, "/storage/v1/") && !strings.Contains(r, "/upload/"))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
	status := 0
	if len(s.statuses) > 0 {
		status, s.statuses = s.statuses[0], s.statuses[1:]
	}
	cut := -1
	var slow *pace
	if isDownload(r.Method+" "+r.URL.RequestURI()) && status == 0 {
		status = s.downloadStatus
		for name, p := range s.paced {
			if strings.HasSuffix(r.URL.Path, name) {
				p := p
				slow = &p
			}
		}
		for name, n := range s.cuts {
			if strings.HasSuffix(r.URL.Path, name) {
				cut = n
			}
		}
	}
	s.mu.Unlock()
	if status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"code":%d,"message":"injected fault","errors":[{"reason":"backendError","message":"injected fault"}]}}`, status)
		return
	}
	if cut >= 0 {
		s.serveCut(w, r, cut)
		return
	}
	if slow != nil {
		s.servePaced(w, r, *slow)
		return
	}
	s.Fake.HTTPHandler().ServeHTTP(w, r)
}

// serveCut answers the download with its full headers, then n bytes of
// the body, then closes the connection.
func (s *Server) serveCut(w http.ResponseWriter, r *http.Request, n int) {
	rec := httptest.NewRecorder()
	s.Fake.HTTPHandler().ServeHTTP(rec, r)
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("gcstest: no hijacker")
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	resp := rec.Result()
	body := rec.Body.Bytes()
	resp.Body = nil
	writeHead(buf, resp, len(body))
	if n > len(body) {
		n = len(body)
	}
	buf.Write(body[:n])
	buf.Flush()
}

// servePaced answers the download in pieces (see pace).
func (s *Server) servePaced(w http.ResponseWriter, r *http.Request, p pace) {
	rec := httptest.NewRecorder()
	s.Fake.HTTPHandler().ServeHTTP(rec, r)
	for k, vs := range rec.Result().Header {
		w.Header()[k] = vs
	}
	body := rec.Body.Bytes()
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	for sent := 0; sent < len(body); sent += p.piece {
		if p.stallAfter > 0 && sent >= p.stallAfter {
			<-r.Context().Done()
			return
		}
		w.Write(body[sent:min(sent+p.piece, len(body))])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(p.wait):
		}
	}
}

func writeHead(buf *bufio.ReadWriter, resp *http.Response, length int) {
	buf.WriteString("HTTP/1.1 " + strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode) + "\r\n")
	for k, vs := range resp.Header {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		for _, v := range vs {
			buf.WriteString(k + ": " + v + "\r\n")
		}
	}
	buf.WriteString("Content-Length: " + strconv.Itoa(length) + "\r\n\r\n")
}
