package https_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSameBytesKeepTheCopy: a server without validators sends the file
// again at each sync; the same bytes leave the copy as it was, its time
// included (a users snapshot is dated by it), and count as unchanged.
func TestSameBytesKeepTheCopy(t *testing.T) {
	body := "user_id\nu1\n"
	srv, settings := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })
	m := newMirror(t)
	url := srv.URL + "/dl/users.csv"
	if _, err := syncURL(t, m, url, settings); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(localDir(t, m, url), "users.csv")
	old := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(copyPath, old, old); err != nil { // as if fetched on October 1st
		t.Fatal(err)
	}
	got, err := syncURL(t, m, url, settings)
	if err != nil || got.Fetched != 0 || got.Unchanged != 1 {
		t.Fatalf("sync of the same bytes = %+v, %v; want 0 fetched, 1 unchanged", got, err)
	}
	if again, _ := os.Stat(copyPath); !again.ModTime().Equal(old) {
		t.Errorf("the copy's time moved from %v to %v for the same bytes", old, again.ModTime())
	}
	body = "user_id\nu2\n"
	if got, err = syncURL(t, m, url, settings); err != nil || got.Fetched != 1 || readFile(t, copyPath) != body {
		t.Errorf("sync of new bytes = %+v, %v", got, err)
	}
}

// TestQueriesAreDistinctFiles: two URLs that differ only by their query
// string have copies of their own.
func TestQueriesAreDistinctFiles(t *testing.T) {
	srv, settings := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"`+r.URL.Query().Get("type")+`"`)
		io.WriteString(w, "content of "+r.URL.Query().Get("type")+"\n")
	})
	m := newMirror(t)
	users, activity := srv.URL+"/dl/export.csv?type=users", srv.URL+"/dl/export.csv?type=activity"
	for _, u := range []string{users, activity} {
		if _, err := syncURL(t, m, u, settings); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := localDir(t, m, users), localDir(t, m, activity); a == b {
		t.Fatalf("one folder for both: %s", a)
	}
	if s := readFile(t, filepath.Join(localDir(t, m, users), "export.csv")); s != "content of users\n" {
		t.Errorf("users copy = %q", s)
	}
	if s := readFile(t, filepath.Join(localDir(t, m, activity), "export.csv")); s != "content of activity\n" {
		t.Errorf("activity copy = %q", s)
	}
}
