package files

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

func newDestination(t *testing.T, path string) *Destination {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("kind: files\npath: "+path+"\nreport: false\n"), &doc); err != nil {
		t.Fatal(err)
	}
	d, err := New(config.Plugin{Name: "local", Kind: "files", Node: doc.Content[0], File: "u.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func tableConn(t *testing.T, rows int) *sql.Conn {
	t.Helper()
	conn := sqltest.Conn(t)
	if _, err := conn.ExecContext(context.Background(), "CREATE TABLE kpi AS SELECT range AS n FROM range(?)", rows); err != nil {
		t.Fatal(err)
	}
	return conn
}

func publish(t *testing.T, d *Destination, conn *sql.Conn, id string) error {
	t.Helper()
	run := connectors.Run{ID: id, StartedAt: time.Now(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return connectors.Publish(context.Background(), d, conn, run, connectors.Published{Tables: []string{"kpi"}, RowsOut: map[string]int64{"kpi": 3}})
}

func TestPublishReplacesItsOwnFolder(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	d := newDestination(t, out)
	if err := publish(t, d, tableConn(t, 3), "r1"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"kpi.parquet", "kpi.csv", "uptake.duckdb", Marker} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(out, "kpi.csv")); string(b) != "n\n0\n1\n2\n" {
		t.Errorf("kpi.csv = %q", b)
	}
	// uptake.duckdb opens on its own (detached, checkpointed: no WAL left)
	// and holds the table.
	if _, err := os.Stat(filepath.Join(out, "uptake.duckdb.wal")); !os.IsNotExist(err) {
		t.Errorf("uptake.duckdb.wal left (%v)", err)
	}
	outDB, err := sql.Open("duckdb", filepath.Join(out, "uptake.duckdb")+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	var n, sum int64
	if err := outDB.QueryRow("SELECT count(*), sum(n) FROM kpi").Scan(&n, &sum); err != nil || n != 3 || sum != 3 {
		t.Errorf("uptake.duckdb's kpi: %d rows, sum %d, %v; want 3 rows, sum 0+1+2 = 3", n, sum, err)
	}
	outDB.Close()
	// A staging folder left by a killed run is cleaned up by the next one.
	left := filepath.Join(dir, ".out.new-123")
	os.MkdirAll(left, 0o755)
	os.WriteFile(filepath.Join(left, Marker), nil, 0o644)
	if err := publish(t, d, tableConn(t, 1), "r2"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "kpi.csv")); string(b) != "n\n0\n" {
		t.Errorf("kpi.csv after the second run = %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want only out", names)
	}
	if b, _ := os.ReadFile(filepath.Join(out, Marker)); !strings.Contains(string(b), "run r2") {
		t.Errorf("marker = %q", b)
	}
}

func TestPublishRefusesAFolderItDidNotWrite(t *testing.T) {
	dir := t.TempDir()
	thesis := filepath.Join(dir, "docs", "thesis.txt")
	os.MkdirAll(filepath.Dir(thesis), 0o755)
	os.WriteFile(thesis, []byte("years of work"), 0o644)
	err := publish(t, newDestination(t, filepath.Join(dir, "docs")), tableConn(t, 3), "r1")
	if err == nil || !strings.Contains(err.Error(), "was not written by uptake") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(thesis); string(b) != "years of work" {
		t.Error("a foreign file was touched")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("staging folder left behind: %d entries", len(entries))
	}
}

func TestPublishReplacesAnOutputFolderOfAnEarlierVersion(t *testing.T) {
	// Written by an uptake that did not leave a marker yet: only its own files.
	out := filepath.Join(t.TempDir(), "out")
	os.MkdirAll(out, 0o755)
	for _, f := range []string{"kpi.csv", "kpi.parquet", "uptake.duckdb", "report.html"} {
		os.WriteFile(filepath.Join(out, f), []byte("old"), 0o644)
	}
	if err := publish(t, newDestination(t, out), tableConn(t, 2), "r1"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "kpi.csv")); string(b) != "n\n0\n1\n" {
		t.Errorf("kpi.csv = %q", b)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); !os.IsNotExist(err) {
		t.Error("a file of the previous output survived the swap")
	}
}

// The three phases: Plan creates nothing (not even the parent folder);
// Prepare writes beside out/, which readers still see whole; Discard
// removes it; only Commit replaces out/.
func TestPhasesChangeOutOnlyAtCommit(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "reports", "out")
	d := newDestination(t, out)
	run := connectors.Run{ID: "r1", StartedAt: time.Now(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	pub := connectors.Published{Tables: []string{"kpi"}, RowsOut: map[string]int64{"kpi": 3}}
	ctx := context.Background()
	p, err := d.Plan(ctx, tableConn(t, 3), run, pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "reports")); !os.IsNotExist(err) {
		t.Fatal("Plan created the parent folder")
	}
	p.Discard(ctx)
	if err := publish(t, d, tableConn(t, 1), "r0"); err != nil {
		t.Fatal(err)
	}
	p, err = d.Plan(ctx, tableConn(t, 3), run, pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "kpi.csv")); string(b) != "n\n0\n" {
		t.Errorf("after Prepare out/ shows %q, want the previous run's", b)
	}
	p.Discard(ctx)
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("Discard left %d entries beside out/", len(entries))
	}
	if err := p.Commit(ctx); err == nil {
		t.Error("a discarded publication committed")
	}
	if b, _ := os.ReadFile(filepath.Join(out, "kpi.csv")); string(b) != "n\n0\n" {
		t.Errorf("out/ = %q after a discard", b)
	}
}

// A path whose parent is a file, or an out/ that is a file, fails Plan.
func TestPlanRefusesAPathItCannotWrite(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	os.WriteFile(file, []byte("x"), 0o644)
	run := connectors.Run{ID: "r1", StartedAt: time.Now(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, path := range []string{filepath.Join(file, "out"), file} {
		if _, err := newDestination(t, path).Plan(context.Background(), tableConn(t, 1), run, connectors.Published{}); err == nil {
			t.Errorf("%s: planned", path)
		}
	}
}

// Two spellings of one folder are one target (the engine refuses two
// destinations with one target).
func TestTargetIsTheAbsoluteFolder(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	a, b := newDestination(t, "out"), newDestination(t, filepath.Join(dir, "x", "..", "out"))
	if a.Target() != b.Target() || a.Target() != "folder "+filepath.Join(dir, "out") {
		t.Errorf("%q, %q", a.Target(), b.Target())
	}
}

// TestWriteDuckDBLeavesTheConnectionAsFound: a failed copy, or a stopped
// run, detaches the file, so the connection can write another.
func TestWriteDuckDBLeavesTheConnectionAsFound(t *testing.T) {
	conn := tableConn(t, 3)
	dir := t.TempDir()
	if err := writeDuckDB(context.Background(), conn, filepath.Join(dir, "a.duckdb"), []string{"kpi", "missing"}); err == nil || !strings.Contains(err.Error(), "write missing into") {
		t.Fatalf("writeDuckDB with a missing table = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := writeDuckDB(ctx, conn, filepath.Join(dir, "b.duckdb"), []string{"kpi"}); err == nil {
		t.Fatal("writeDuckDB with a stopped context succeeded")
	}
	var n int
	if err := conn.QueryRowContext(context.Background(), `SELECT count(*) FROM duckdb_databases() WHERE database_name = 'uptake_out'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("uptake_out still attached (%d, %v)", n, err)
	}
	if err := writeDuckDB(context.Background(), conn, filepath.Join(dir, "c.duckdb"), []string{"kpi"}); err != nil {
		t.Fatalf("writeDuckDB after two failures = %v", err)
	}
}

// TestFormatsSayWhichFilesAreWritten: formats lists the files written per
// table; uptake.duckdb and the report are settings of their own. The
// Parquet file reads back the table's rows.
func TestFormatsSayWhichFilesAreWritten(t *testing.T) {
	for _, tc := range []struct {
		formats string
		want    map[string]bool // file → written
	}{
		{"[csv]", map[string]bool{"kpi.csv": true, "kpi.parquet": false}},
		{"[parquet]", map[string]bool{"kpi.csv": false, "kpi.parquet": true}},
		{"[parquet, csv]", map[string]bool{"kpi.csv": true, "kpi.parquet": true}},
	} {
		out := filepath.Join(t.TempDir(), "out")
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte("kind: files\npath: "+out+"\nreport: false\nduckdb: false\nformats: "+tc.formats+"\n"), &doc); err != nil {
			t.Fatal(err)
		}
		d, err := New(config.Plugin{Name: "local", Kind: "files", Node: doc.Content[0], File: "u.yaml"})
		if err != nil {
			t.Fatal(err)
		}
		conn := tableConn(t, 3)
		if err := publish(t, d, conn, "r1"); err != nil {
			t.Fatal(err)
		}
		for f, written := range tc.want {
			if _, err := os.Stat(filepath.Join(out, f)); (err == nil) != written {
				t.Errorf("formats %s: %s written = %v, want %v", tc.formats, f, err == nil, written)
			}
		}
		if _, err := os.Stat(filepath.Join(out, "uptake.duckdb")); !os.IsNotExist(err) {
			t.Errorf("formats %s, duckdb: false: uptake.duckdb written (%v)", tc.formats, err)
		}
		if tc.want["kpi.parquet"] {
			var n, sum int64
			if err := conn.QueryRowContext(context.Background(), "SELECT count(*), sum(n) FROM read_parquet(?)", filepath.Join(out, "kpi.parquet")).Scan(&n, &sum); err != nil || n != 3 || sum != 3 {
				t.Errorf("formats %s: kpi.parquet has %d rows summing to %d (%v), want 3 rows of 0, 1, 2", tc.formats, n, sum, err)
			}
		}
	}
}

// TestUptakeDuckDBKeepsTheDefaultStorageFormat: the warehouse may be written
// in a newer DuckDB storage format (warehouse.StorageVersion), a setting of
// its DuckDB instance that would also hold for the files it attaches;
// uptake.duckdb is for analysts, who open it with the DuckDB they have, so it
// stays in DuckDB's default format, readable by DuckDB 1.0 and later.
func TestUptakeDuckDBKeepsTheDefaultStorageFormat(t *testing.T) {
	ctx := context.Background()
	conn := sqltest.ConnTo(t, "?storage_compatibility_version=v1.5.0")
	if _, err := conn.ExecContext(ctx, "CREATE TABLE kpi AS SELECT 'row ' || range AS n FROM range(3)"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if err := publish(t, newDestination(t, out), conn, "r1"); err != nil {
		t.Fatal(err)
	}
	outDB, err := sql.Open("duckdb", filepath.Join(out, "uptake.duckdb")+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer outDB.Close()
	var version string
	if err := outDB.QueryRow("SELECT tags['storage_version'] FROM duckdb_databases() WHERE NOT internal").Scan(&version); err != nil || version != "v1.0.0+" {
		t.Errorf("uptake.duckdb's storage version = %q (%v), want v1.0.0+ (DuckDB's default)", version, err)
	}
}
