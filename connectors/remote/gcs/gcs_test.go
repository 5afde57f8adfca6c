package gcs_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/connectors/remote"
	"github.com/uptake-dev/uptake/connectors/remote/gcs/gcstest"

	"github.com/uptake-dev/uptake/connectors/remote/gcs"
)

func init() { gcs.FastRetries() }

var (
	day1 = time.Date(2026, 10, 1, 6, 0, 0, 0, time.UTC)
	day2 = time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
)

// sync runs one mirror sync of url against srv, as the csvexport source does.
func sync(t *testing.T, srv *gcstest.Server, root, url string) (remote.Synced, error) {
	t.Helper()
	loc, err := remote.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := remote.Open(ctx, loc, remote.Settings{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := &remote.Mirror{Root: root, Log: slog.New(slog.NewTextHandler(&logs, nil)), Retry: backoff.Policy{Base: time.Millisecond, Max: time.Millisecond, Attempts: 3}}
	return m.Sync(ctx, st, loc)
}

// logs are the mirror's log lines.
var logs strings.Builder

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMirrorFetchesOnlyNewOrChangedObjects(t *testing.T) {
	srv := gcstest.New(t)
	srv.Put("exports", "platform/activity_2026-09.csv", "date,user_id\n2026-09-01,u1\n", day1)
	srv.Put("exports", "platform/activity_2026-10.csv", "date,user_id\n2026-10-01,u2\n", day1)
	srv.Put("exports", "platform/users_2026-10.csv", "user_id\nu1\n", day1)                    // another pattern's
	srv.Put("exports", "platform/old/activity_2025-01.csv", "date,user_id\n", day1)            // a subfolder's
	srv.Put("exports", "elsewhere/activity_2026-09.csv", "date,user_id\n2026-09-09,x\n", day1) // another folder's
	root := t.TempDir()
	url := "gs://exports/platform/activity_*.csv"

	got, err := sync(t, srv, root, url)
	if err != nil {
		t.Fatal(err)
	}
	// Two objects match; users_2026-10.csv is the folder's other file; the
	// subfolder and the other folder are not listed.
	if got.Fetched != 2 || got.Unchanged != 0 || !slices.Equal(got.Others, []string{"users_2026-10.csv"}) {
		t.Fatalf("first sync = %+v, want 2 fetched and users_2026-10.csv as the only other file", got)
	}
	if want := filepath.Join(root, "gs", "exports", "platform", "activity_*.csv"); got.Pattern != want {
		t.Errorf("pattern = %s, want %s", got.Pattern, want)
	}
	copy9 := filepath.Join(got.Dir, "activity_2026-09.csv")
	if s := read(t, copy9); s != "date,user_id\n2026-09-01,u1\n" {
		t.Errorf("copy = %q", s)
	}
	if fi, _ := os.Stat(copy9); !fi.ModTime().Equal(day1) {
		t.Errorf("copy's time = %v, want the object's %v", fi.ModTime(), day1)
	}
	if n := srv.Downloads(); n != 2 {
		t.Errorf("%d downloads, want 2", n)
	}

	// Nothing changed: nothing is downloaded.
	got, err = sync(t, srv, root, url)
	if err != nil || got.Fetched != 0 || got.Unchanged != 2 || srv.Downloads() != 2 {
		t.Fatalf("second sync = %+v, %v, %d downloads; want 0 fetched, 2 unchanged, still 2 downloads", got, err, srv.Downloads())
	}

	// September written again (same length: the generation tells), October
	// deleted: one download, one copy removed.
	srv.Put("exports", "platform/activity_2026-09.csv", "date,user_id\n2026-09-02,u1\n", day2)
	if err := srv.Fake.Backend().DeleteObject("exports", "platform/activity_2026-10.csv"); err != nil {
		t.Fatal(err)
	}
	got, err = sync(t, srv, root, url)
	if err != nil || got.Fetched != 1 || got.Unchanged != 0 || got.Removed != 1 {
		t.Fatalf("third sync = %+v, %v; want 1 fetched, 1 removed", got, err)
	}
	if s := read(t, copy9); s != "date,user_id\n2026-09-02,u1\n" {
		t.Errorf("copy after the rewrite = %q", s)
	}
	if _, err := os.Stat(filepath.Join(got.Dir, "activity_2026-10.csv")); !os.IsNotExist(err) {
		t.Errorf("the copy of the deleted object is still there (%v)", err)
	}
	if !strings.Contains(logs.String(), `level=WARN msg="a file is gone from its remote folder: its copy is removed, and its rows leave the KPIs" url=gs://exports/platform/activity_2026-10.csv`) {
		t.Errorf("no warning names the removed file:\n%s", logs.String())
	}
}

func TestMirrorKeepsTheCompleteCopyWhenADownloadFails(t *testing.T) {
	srv := gcstest.New(t)
	content := "date,user_id\n" + strings.Repeat("2026-09-01,u1\n", 1000)
	srv.Put("exports", "p/activity_2026-09.csv", content, day1)
	root := t.TempDir()
	url := "gs://exports/p/activity_*.csv"
	first, err := sync(t, srv, root, url)
	if err != nil {
		t.Fatal(err)
	}
	copy9 := filepath.Join(first.Dir, "activity_2026-09.csv")

	srv.Put("exports", "p/activity_2026-09.csv", content+"2026-09-02,u2\n", day2)
	for _, fault := range []struct {
		name   string
		inject func()
		want   string
	}{
		{"503 at every try", func() {
			srv.FailNext(503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503)
		}, "503"},
	} {
		t.Run(fault.name, func(t *testing.T) {
			fault.inject()
			defer srv.Heal()
			_, err := sync(t, srv, root, url)
			if err == nil || !strings.Contains(err.Error(), fault.want) {
				t.Fatalf("sync = %v, want an error naming %q", err, fault.want)
			}
			if s := read(t, copy9); s != content {
				t.Errorf("the earlier copy changed: %d bytes, want %d", len(s), len(content))
			}
			left, _ := os.ReadDir(filepath.Join(root, ".partial"))
			if len(left) != 0 {
				t.Errorf("partial files left: %v", left)
			}
		})
	}

	// One 503, then the service answers: the retry mends it.
	srv.FailNext(503)
	got, err := sync(t, srv, root, url)
	if err != nil || got.Fetched != 1 {
		t.Fatalf("sync after one 503 = %+v, %v", got, err)
	}
	if s := read(t, copy9); s != content+"2026-09-02,u2\n" {
		t.Errorf("copy after the mended fetch: %d bytes", len(s))
	}

	// Every response cut after 100 bytes: the client resumes from where it
	// stopped (a Range request each time) until the copy is whole.
	v3 := content + "2026-09-03,u3\n"
	srv.Put("exports", "p/activity_2026-09.csv", v3, day2.Add(time.Hour))
	srv.CutAfter("activity_2026-09.csv", 100)
	before := srv.Downloads()
	got, err = sync(t, srv, root, url)
	srv.Heal()
	if err != nil || got.Fetched != 1 {
		t.Fatalf("sync with cut responses = %+v, %v", got, err)
	}
	if s := read(t, copy9); s != v3 {
		t.Errorf("resumed copy: %d bytes, want %d", len(s), len(v3))
	}
	// 14,040 bytes in pieces of 100: 141 requests.
	if n := srv.Downloads() - before; n != (len(v3)+99)/100 {
		t.Errorf("%d download requests, want %d (one per 100 bytes)", n, (len(v3)+99)/100)
	}
}

func TestEndpointWithTheAPIPath(t *testing.T) {
	srv := gcstest.New(t)
	srv.Put("exports", "p/a_1.csv", "x\n", day1)
	loc, _ := remote.Parse("gs://exports/p/a_*.csv")
	st, err := remote.Open(context.Background(), loc, remote.Settings{Endpoint: srv.URL + "/storage/v1/"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	objs, err := st.List(context.Background())
	if err != nil || len(objs) != 1 {
		t.Fatalf("list through an endpoint given with /storage/v1/ = %v, %v", objs, err)
	}
}

func TestMissingBucketIsPermanent(t *testing.T) {
	srv := gcstest.New(t)
	_, err := sync(t, srv, t.TempDir(), "gs://nope/p/activity_*.csv")
	if err == nil || !remote.IsPermanent(err) || !strings.Contains(err.Error(), `bucket "nope" does not exist`) {
		t.Fatalf("sync = %v, want a permanent error naming the bucket", err)
	}
}

// TestTimeoutIsAStallNotADeadline: remote.timeout bounds how long a
// download may go without a byte: a slow but steady download longer than
// it completes; one that stops fails, naming the timeout, and the copy
// fetched before stays.
func TestTimeoutIsAStallNotADeadline(t *testing.T) {
	srv := gcstest.New(t)
	content := strings.Repeat("2026-09-01,u1\n", 200) // 2,800 bytes
	srv.Put("exports", "p/activity_2026-09.csv", content, day1)
	root := t.TempDir()
	loc, _ := remote.Parse("gs://exports/p/activity_*.csv")
	syncWith := func() (remote.Synced, error) {
		st, err := remote.Open(context.Background(), loc, remote.Settings{Endpoint: srv.URL, Timeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		m := &remote.Mirror{Root: root, Retry: backoff.Policy{Base: time.Millisecond, Max: time.Millisecond, Attempts: 2}}
		return m.Sync(context.Background(), st, loc)
	}
	// 28 pieces of 100 bytes, 40 ms apart: about 1.1 s in all, never 300 ms idle.
	srv.Slow("activity_2026-09.csv", 100, 40*time.Millisecond)
	start := time.Now()
	got, err := syncWith()
	srv.Heal()
	if err != nil || got.Fetched != 1 {
		t.Fatalf("a slow, steady download = %+v, %v", got, err)
	}
	if took := time.Since(start); took < 600*time.Millisecond {
		t.Errorf("the slow download took %v: the pacing did not happen", took)
	}
	copyPath := filepath.Join(got.Dir, "activity_2026-09.csv")
	if s := read(t, copyPath); s != content {
		t.Fatalf("copy: %d bytes, want %d", len(s), len(content))
	}

	// A new version whose download stops after 100 bytes.
	srv.Put("exports", "p/activity_2026-09.csv", content+"2026-09-02,u2\n", day2)
	srv.StallAfter("activity_2026-09.csv", 100)
	_, err = syncWith()
	srv.Heal()
	if err == nil || !strings.Contains(err.Error(), "no data for 300ms (remote.timeout)") {
		t.Fatalf("a stalled download = %v, want the timeout named", err)
	}
	if s := read(t, copyPath); s != content {
		t.Errorf("the earlier copy changed after a stalled download")
	}
}
