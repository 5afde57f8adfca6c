package etl_test

import (
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors/remote/gcs/gcstest"
	"github.com/uptake-dev/uptake/connectors/remote/sftp/sftpserver"
	"github.com/uptake-dev/uptake/etl"
)

// remoteWorkspace is a workspace whose csvexport source reads the same
// export files from a bucket of srv (gs://exports/platform/...).
func remoteWorkspace(t *testing.T, srv *gcstest.Server) *workspace {
	t.Helper()
	w := newWorkspace(t, "")
	remoteConfig(t, w, "gs://exports/platform", "      endpoint: "+srv.URL+"\n      timeout: 3s")
	return w
}

// upload puts every file of dir in gs://exports/platform/.
func upload(t *testing.T, srv *gcstest.Server, dir string, at time.Time) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		srv.Put("exports", "platform/"+e.Name(), readFile(t, filepath.Join(dir, e.Name())), at)
	}
}

// TestRemoteExportsRunLikeLocalOnes: the same exports read from a bucket
// publish exactly what they publish read from a folder; an unchanged
// bucket is not downloaded again; a fetch that fails leaves the published
// tables and out/ as the last run left them, and names the URL.
func TestRemoteExportsRunLikeLocalOnes(t *testing.T) {
	srv := gcstest.New(t)
	local := newWorkspace(t, "")
	upload(t, srv, filepath.Join(local.dir, "input"), time.Date(2026, 10, 1, 6, 0, 0, 0, time.UTC))
	want, err := local.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}

	w := remoteWorkspace(t, srv)
	// validate reads the bucket into a folder of its own: the run's copies
	// beside the warehouse are not made, nor changed.
	v, err := w.validate(date(2026, 10, 15))
	if err != nil || len(v.Problems) > 0 {
		t.Fatalf("validate = %v, %v", v.Problems, err)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "remote")); !os.IsNotExist(err) {
		t.Errorf("validate made the run's copies (%v)", err)
	}
	srv.Heal() // forget validate's downloads
	before := srv.Downloads()
	res, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := published(t, w, res)
	sameTables(t, "bucket against folder", published(t, local, want), first)
	if n := srv.Downloads() - before; n != 7 {
		t.Errorf("first run: %d downloads, want the 7 files", n)
	}

	// Nothing changed in the bucket: nothing downloaded, nothing parsed.
	res, err = w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Downloads() - before; n != 7 || res.FilesRead != 0 || res.FilesKept != 7 {
		t.Errorf("second run: %d downloads (want 7 in all), %d files read, %d kept (want 0, 7)", n, res.FilesRead, res.FilesKept)
	}

	// September's activity is revised in the bucket, and every download of
	// it fails: the run fails naming the URL; the tables and out/ stay.
	september := readFile(t, filepath.Join(local.dir, "input", "activity_2026-09.csv"))
	revised := strings.Replace(september, "\n", "\n2026-09-30,u-new,C001,download,1\n", 1)
	srv.Put("exports", "platform/activity_2026-09.csv", revised, time.Date(2026, 10, 2, 6, 0, 0, 0, time.UTC))
	report := readFile(t, filepath.Join(w.dir, "out", "customer_monthly.csv"))
	srv.FailDownloads(503)
	_, err = w.run(etl.Options{})
	srv.Heal()
	if err == nil || !strings.Contains(err.Error(), "gs://exports/platform/activity_2026-09.csv") {
		t.Fatalf("run with a failing download = %v, want an error naming the URL", err)
	}
	sameTables(t, "after a failed fetch", first, published(t, w, res))
	if got := readFile(t, filepath.Join(w.dir, "out", "customer_monthly.csv")); got != report {
		t.Error("out/ changed after a failed fetch")
	}

	// The service answers again: the revised file is read, as a local
	// revision would be.
	res, err = w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesRead != 1 {
		t.Errorf("after the revision: %d files read, want 1", res.FilesRead)
	}
	local.write("activity_2026-09.csv", revised)
	want, err = local.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameTables(t, "revised bucket against revised folder", published(t, local, want), published(t, w, res))
}

// remoteConfig points w's source at base (a URL of the folder holding the
// export files) with the given remote: settings, files published to out/.
func remoteConfig(t *testing.T, w *workspace, base, settings string) {
	t.Helper()
	w.useSources(`  - kind: csvexport
    remote:
` + settings + `
    establishments: {path: "` + base + `/establishments_*.csv"}
    users: {path: "` + base + `/users_*.csv"}
    activity: {path: "` + base + `/activity_*.csv"}
`)
}

// TestSFTPAndHTTPSExportsRunLikeLocalOnes: the same exports served by an
// SFTP server (password login, host key in known_hosts) and by a web
// server's directory listing (its CA in ca_file, a bearer token from the
// environment) publish what they publish from a folder.
func TestSFTPAndHTTPSExportsRunLikeLocalOnes(t *testing.T) {
	local := newWorkspace(t, "")
	in := filepath.Join(local.dir, "input")
	res, err := local.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := published(t, local, res)

	t.Run("sftp", func(t *testing.T) {
		srv := sftpserver.Start(t, sftpserver.Config{Root: filepath.Dir(in), User: "uptake", Password: "s3cret"})
		known := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(known, []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("TEST_SFTP_PASSWORD", "s3cret")
		w := newWorkspace(t, "")
		remoteConfig(t, w, "sftp://uptake@"+srv.Addr+"/input", "      password: ${TEST_SFTP_PASSWORD}\n      known_hosts: "+known)
		res, err := w.run(etl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameTables(t, "sftp against folder", want, published(t, w, res))
		if n := srv.Logins(); n != 1 {
			t.Errorf("%d logins for the three exports of one folder, want 1", n)
		}

		// Another host key in known_hosts: refused, naming what was presented.
		other := sftpserver.Start(t, sftpserver.Config{Root: filepath.Dir(in), User: "uptake", Password: "s3cret"})
		line := strings.Fields(other.KnownHostsLine())
		line[0] = strings.Fields(srv.KnownHostsLine())[0]
		if err := os.WriteFile(known, []byte(strings.Join(line, " ")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out := readFile(t, filepath.Join(w.dir, "out", "customer_monthly.csv"))
		_, err = w.run(etl.Options{})
		if err == nil || !strings.Contains(err.Error(), "host key mismatch") || !strings.Contains(err.Error(), srv.Fingerprint()) {
			t.Fatalf("run with another host key = %v, want a mismatch naming %s", err, srv.Fingerprint())
		}
		sameTables(t, "after a refused host key", want, published(t, w, res))
		if readFile(t, filepath.Join(w.dir, "out", "customer_monthly.csv")) != out {
			t.Error("out/ changed after a refused host key")
		}
		// Said once, for the first export; the others name it.
		if n := strings.Count(err.Error(), "host key mismatch"); n != 1 {
			t.Errorf("the mismatch is told %d times, want once:\n%v", n, err)
		}
		if !strings.Contains(err.Error(), "not fetched: its server could not be reached for establishments.path") {
			t.Errorf("the users export does not point at the first failure:\n%v", err)
		}
	})

	t.Run("https", func(t *testing.T) {
		var auth []string
		failing := "" // a file answered 503
		files := http.FileServer(http.Dir(in))
		srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			auth = append(auth, r.Header.Get("Authorization"))
			if r.Header.Get("Authorization") != "Bearer t0ken" {
				http.Error(rw, "no", http.StatusUnauthorized)
				return
			}
			if failing != "" && strings.HasSuffix(r.URL.Path, failing) {
				http.Error(rw, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			http.StripPrefix("/exports", files).ServeHTTP(rw, r)
		}))
		defer srv.Close()
		ca := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("TEST_TOKEN", "t0ken")
		w := newWorkspace(t, "")
		remoteConfig(t, w, srv.URL+"/exports", "      headers: {Authorization: \"Bearer ${TEST_TOKEN}\"}\n      ca_file: "+ca)
		res, err := w.run(etl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameTables(t, "https against folder", want, published(t, w, res))
		// A listing per dataset, then the 7 files.
		if len(auth) != 3+7 {
			t.Errorf("%d requests, want 10", len(auth))
		}

		// A file answered 503 at every try: 4 tries, then the run fails
		// naming it and its status.
		failing, auth = "activity_2026-09.csv", nil
		out := readFile(t, filepath.Join(w.dir, "out", "customer_monthly.csv"))
		_, err = w.run(etl.Options{})
		if err == nil || !strings.Contains(err.Error(), srv.URL+"/exports/activity_2026-09.csv") || !strings.Contains(err.Error(), "503") {
			t.Fatalf("run with a file answered 503 = %v", err)
		}
		sameTables(t, "after a 503", want, published(t, w, res))
		if readFile(t, filepath.Join(w.dir, "out", "customer_monthly.csv")) != out {
			t.Error("out/ changed after a 503")
		}
		// 3 listings; conditional requests answered 304 for the 3
		// establishments files, the users file, activity_2026-07 and -08;
		// then 4 tries of -09.
		if len(auth) != 3+3+1+2+4 {
			t.Errorf("%d requests, want 13 (4 tries of the failing file)", len(auth))
		}
	})
}

// TestGA4OnlyConfigWarns: a config with GA4 and no establishments export
// runs, and says that no customer is known (run and validate alike).
func TestGA4OnlyConfigWarns(t *testing.T) {
	sample, err := filepath.Abs(filepath.Join("..", "testdata", "sample"))
	if err != nil {
		t.Fatal(err)
	}
	w := sourcesWorkspace(t, `  - kind: ga4_export_file
    path: `+sample+`/ga4_events_*.jsonl.gz
    customer_property: customer_ref
    usage_events: [page_view]
`)
	const want = "no establishments export (a source of kind csvexport)"
	res, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
		t.Errorf("run warnings = %q, want one starting %q", res.Warnings, want)
	}
	v, err := w.validate(date(2026, 10, 15))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(v.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
		t.Errorf("validate warnings = %q, want one starting %q", v.Warnings, want)
	}

	// With an establishments export, no such warning.
	res, err = newWorkspace(t, "").run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
		t.Errorf("warned with an establishments export: %q", res.Warnings)
	}
}

// TestRemoteQueryValuesStaySecret: a signed URL's token reaches the server
// but never a log line, a warning or an error, whether the run succeeds or
// the server refuses the file.
func TestRemoteQueryValuesStaySecret(t *testing.T) {
	local := newWorkspace(t, "")
	in := filepath.Join(local.dir, "input")
	missing := false
	srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "SENTINEL" || missing {
			http.Error(rw, "no such file", http.StatusNotFound)
			return
		}
		http.ServeFile(rw, r, filepath.Join(in, filepath.Base(r.URL.Path)))
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	w := sourcesWorkspace(t, `  - kind: csvexport
    remote: {ca_file: `+ca+`}
    establishments:
      path: "`+srv.URL+`/dl/establishments_2026-09.csv?token=SENTINEL"
      expect_by_day: 0
`)
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	res, err := w.run(etl.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	missing = true
	_, err = w.run(etl.Options{Logger: log})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("run with the file gone = %v, want a 404", err)
	}
	for what, text := range map[string]string{"logs": logs.String(), "error": err.Error(), "warnings": strings.Join(res.Warnings, "\n"),
		"report": readFile(t, filepath.Join(w.dir, "out", "report.html"))} {
		if strings.Contains(text, "SENTINEL") {
			t.Errorf("the token is in the %s", what)
		}
	}
	if !strings.Contains(logs.String(), "token=REDACTED") {
		t.Errorf("the logs do not name the URL (redacted):\n%s", logs.String())
	}
}
