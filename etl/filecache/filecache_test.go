package filecache_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/etl/filecache"
	"github.com/uptake-dev/uptake/etl/warehouse"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

// keepFile reads path the way a source does: a scan table of its lines, a
// view of it as the relation.
func keepFile(t *testing.T, ctx context.Context, s *filecache.Store, conn *sql.Conn, path string) (*connectors.FileVersion, string) {
	t.Helper()
	v, err := s.Open(ctx, connectors.FileKey{Source: "platform", Table: "raw_activity", Path: path, Reading: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Kept != nil {
		return v, v.Kept.Relation
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE "+v.Scan+" AS SELECT * FROM read_csv('"+path+"', header = false, columns = {'line': 'VARCHAR'})"); err != nil {
		t.Fatal(err)
	}
	rel, err := s.Keep(ctx, v, connectors.KeepSpec{Select: "SELECT line FROM " + v.Scan, Rows: 1, Read: 1})
	if err != nil {
		t.Fatal(err)
	}
	return v, rel
}

func TestVersionsTellContentNotOnlyTimes(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(t.TempDir(), "w.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The run's rejects table, as the contract makes it.
	rejects := sqltest.Named(t, uptakesql.Contract, "load_rejects")
	if _, err := conn.ExecContext(ctx, rejects.SQL); err != nil {
		t.Fatal(err)
	}
	// The clock runs an hour ahead of the files' times: a version is
	// trusted by its times unless written within 2 s of its stamping.
	clock := time.Now().Add(time.Hour)
	store := func() *filecache.Store {
		s, err := filecache.New(ctx, conn, filecache.Options{RunID: "r", Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	path := filepath.Join(t.TempDir(), "a.csv")
	write := func(text string, mtime time.Time) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	lines := func(rel string) string {
		var s string
		if err := conn.QueryRowContext(ctx, "SELECT string_agg(line, ',') FROM "+rel).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	write("a\nb\n", t0)
	_, rel := keepFile(t, ctx, store(), conn, path)
	if got := lines(rel); got != "a,b" {
		t.Fatalf("first read: %s", got)
	}

	// Same size, same bytes, same modification time: kept, unhashed.
	if v, _ := keepFile(t, ctx, store(), conn, path); v.Kept == nil {
		t.Error("an unchanged file was read again")
	}
	// Same size, other bytes, the old modification time restored (as cp -p,
	// rsync -t or unzip do): the change time tells.
	write("a\nc\n", t0)
	v, rel := keepFile(t, ctx, store(), conn, path)
	if v.Kept != nil || lines(rel) != "a,c" {
		t.Errorf("a rewrite with its old time restored was kept (%v)", v.Kept)
	}
	// Another time, the same bytes: hashed, kept.
	write("a\nc\n", t0.Add(-time.Hour))
	if v, _ := keepFile(t, ctx, store(), conn, path); v.Kept == nil || v.SHA256 == "" {
		t.Error("a touched file was read again")
	}
	// Another time, other bytes: read.
	write("a\nd\n", t0.Add(-2*time.Hour))
	v, rel = keepFile(t, ctx, store(), conn, path)
	if v.Kept != nil || lines(rel) != "a,d" {
		t.Errorf("a changed file was kept (%v)", v.Kept)
	}

	// Stamped within 2 s of its time (a coarse file system, a file still
	// being written): a write with the same size and time is still seen.
	clock = time.Now()
	recent := time.Now().Truncate(time.Second)
	write("x\ny\n", recent)
	_, rel = keepFile(t, ctx, store(), conn, path)
	write("x\nz\n", recent)
	v, rel = keepFile(t, ctx, store(), conn, path)
	if v.Kept != nil || lines(rel) != "x,z" {
		t.Errorf("a write within the racy window went unseen: kept %v, rows %s", v.Kept, lines(rel))
	}

	// A kept relation gone (dropped by hand): the file is read again.
	if _, err := conn.ExecContext(ctx, "DROP VIEW "+rel); err != nil {
		t.Fatal(err)
	}
	if v, rel = keepFile(t, ctx, store(), conn, path); v.Kept != nil || lines(rel) != "x,z" {
		t.Errorf("a file whose relation is gone was kept (%v)", v.Kept)
	}
	// A catalog of an older shape is dropped, and its files read again.
	if _, err := conn.ExecContext(ctx, "ALTER TABLE kept.files DROP COLUMN change"); err != nil {
		t.Fatal(err)
	}
	if v, _ = keepFile(t, ctx, store(), conn, path); v.Kept != nil {
		t.Error("a file was kept by a catalog of an older shape")
	}
	if v, _ = keepFile(t, ctx, store(), conn, path); v.Kept == nil {
		t.Error("after the catalog was made anew, the file was not kept")
	}

	// The rows per month of a kept relation are counted once: a second
	// call finds them (a relation never changes), and Collect drops them
	// with their relation.
	s := store()
	v, rel = keepFile(t, ctx, s, conn, path)
	month := "DATE '2026-10-01' + (CASE WHEN line = 'x' THEN 0 ELSE 1 END) * INTERVAL 1 MONTH"
	for i := 0; i < 2; i++ {
		if err := s.Months(ctx, []string{rel}, month); err != nil {
			t.Fatal(err)
		}
	}
	var months string
	if err := conn.QueryRowContext(ctx, `SELECT string_agg(strftime(month, '%Y-%m') || '=' || rows, ',' ORDER BY month) FROM kept.months WHERE relation = ?`, rel).Scan(&months); err != nil {
		t.Fatal(err)
	}
	if months != "2026-10=1,2026-11=1" {
		t.Errorf("kept.months of x,z: %s, want one row of 2026-10 and one of 2026-11, once", months)
	}

	// Collect forgets what the run did not open and drops what nothing uses.
	s = store()
	if err := s.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	var files, views, tables, monthRows int
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM kept.files),
		(SELECT count(*) FROM duckdb_views() WHERE schema_name = 'kept'),
		(SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'kept' AND table_name NOT IN ('files', 'rejects', 'months')),
		(SELECT count(*) FROM kept.months)`).Scan(&files, &views, &tables, &monthRows); err != nil {
		t.Fatal(err)
	}
	if files != 0 || views != 0 || tables != 0 || monthRows != 0 {
		t.Errorf("after a run that opened nothing: %d files, %d views, %d tables, %d rows of months kept", files, views, tables, monthRows)
	}
}
