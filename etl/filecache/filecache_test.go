package filecache_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/etl/filecache"
	"github.com/uptake-dev/uptake/etl/warehouse"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltest"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// keepFile reads path the way a source does: a scan table of its lines, a
// view of it as the relation; then records it, as the engine does once its
// sources have run.
func keepFile(t *testing.T, ctx context.Context, s *filecache.Store, conn *sql.Conn, path string) (*connectors.FileVersion, string) {
	t.Helper()
	v, rel := readFile(t, ctx, s, conn, path, 0)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return v, rel
}

// readFile reads path as keepFile does, without recording it, its first
// rejected lines in temp.load_rejects.
func readFile(t *testing.T, ctx context.Context, s *filecache.Store, conn *sql.Conn, path string, rejected int) (*connectors.FileVersion, string) {
	t.Helper()
	v, err := s.Open(ctx, connectors.FileKey{Source: "platform", Table: "raw_activity", Path: path, Reading: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Kept != nil {
		return v, v.Kept.Relation
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE "+v.Scan+" AS SELECT * FROM read_csv("+sqltext.Quote(path)+", header = false, columns = {'line': 'VARCHAR'})"); err != nil {
		t.Fatal(err)
	}
	for line := 1; line <= rejected; line++ {
		if _, err := conn.ExecContext(ctx, `INSERT INTO temp.load_rejects (source, target_table, file, line, reason) VALUES ('platform', 'raw_activity', ?, ?, 'bad')`, path, line); err != nil {
			t.Fatal(err)
		}
	}
	rel, err := s.Keep(ctx, v, connectors.KeepSpec{Select: "SELECT line FROM " + v.Scan, Rows: 1, Read: int64(1 + rejected), Rejected: int64(rejected)})
	if err != nil {
		t.Fatal(err)
	}
	return v, rel
}

// openWarehouse opens a new warehouse and a connection to it, closed when
// the test ends.
func openWarehouse(t *testing.T, ctx context.Context) *sql.Conn {
	t.Helper()
	db, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(t.TempDir(), "w.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// newRunRejects makes the run's rejects table, as the contract makes it
// at the start of each run.
func newRunRejects(t *testing.T, ctx context.Context, conn *sql.Conn) {
	t.Helper()
	if _, err := conn.ExecContext(ctx, sqltest.Named(t, uptakesql.Contract, "load_rejects").SQL); err != nil {
		t.Fatal(err)
	}
}

func TestVersionsTellContentNotOnlyTimes(t *testing.T) {
	ctx := context.Background()
	conn := openWarehouse(t, ctx)
	newRunRejects(t, ctx, conn)
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

// TestFilesReadInARunAreRecordedTogether: Keep makes a file's relation at
// once, and Flush records every file kept since, with the rejects each left
// in temp.load_rejects, in one transaction; the next run keeps them all
// and reports each one's rejects again, not another's.
func TestFilesReadInARunAreRecordedTogether(t *testing.T) {
	ctx := context.Background()
	conn := openWarehouse(t, ctx)
	newRun := func() *filecache.Store {
		t.Helper()
		newRunRejects(t, ctx, conn)
		s, err := filecache.New(ctx, conn, filecache.Options{RunID: "r", Now: func() time.Time { return time.Now().Add(time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := conn.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(q, err)
		}
		return n
	}
	dir := t.TempDir()
	// Three files, the second with two rejected lines, one with a quote in
	// its name; written a minute ago, so that their times are trusted.
	var paths []string
	for i, name := range []string{"a.csv", "b's.csv", "c.csv"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(fmt.Sprintf("line %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Minute)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	s := newRun()
	relations := map[string]string{}
	scans := map[string]bool{}
	for i, p := range paths {
		v, rel := readFile(t, ctx, s, conn, p, map[int]int{1: 2}[i])
		relations[p] = rel
		scans[v.Scan] = true
	}
	if len(scans) != 3 {
		t.Fatalf("three files read into %d scan tables", len(scans))
	}
	if n := count(`SELECT count(*) FROM kept.files`); n != 0 {
		t.Errorf("%d files recorded before Flush, want none", n)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		if n := count(`SELECT count(*) FROM kept.files WHERE path = ? AND relation = ? AND rejected = ?`, p, relations[p], map[int]int{1: 2}[i]); n != 1 {
			t.Errorf("%s: %d rows of kept.files with its relation %s and rejects, want 1", p, n, relations[p])
		}
	}
	if n := count(`SELECT count(*) FROM kept.rejects WHERE relation = ? AND file = ?`, relations[paths[1]], paths[1]); n != 2 {
		t.Errorf("%d rejects kept for %s, want its 2", n, paths[1])
	}
	if n := count(`SELECT count(*) FROM kept.rejects`); n != 2 {
		t.Errorf("%d rejects kept in all, want 2", n)
	}
	// Their rows per month, counted in one statement, each under its own
	// relation (a file of one line each, all in October).
	var rels []string
	for _, p := range paths {
		rels = append(rels, relations[p])
	}
	if err := s.Months(ctx, rels, "DATE '2026-10-01'"); err != nil {
		t.Fatal(err)
	}
	for _, rel := range rels {
		if n := count(`SELECT count(*) FROM kept.months WHERE relation = ? AND month = DATE '2026-10-01' AND rows = 1`, rel); n != 1 {
			t.Errorf("kept.months of %s: %d rows of one October row, want 1", rel, n)
		}
	}
	if err := s.Flush(ctx); err != nil { // nothing new: nothing recorded twice
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM kept.rejects`); n != 2 {
		t.Errorf("a second Flush: %d rejects kept, want 2", n)
	}

	// The next run keeps the three, and puts back only the second's rejects.
	s = newRun()
	for _, p := range paths {
		v, err := s.Open(ctx, connectors.FileKey{Source: "platform", Table: "raw_activity", Path: p, Reading: "r1"})
		if err != nil {
			t.Fatal(err)
		}
		if v.Kept == nil || v.Kept.Relation != relations[p] {
			t.Errorf("%s: kept %v, want relation %s", p, v.Kept, relations[p])
		}
	}
	if n := count(`SELECT count(*) FROM temp.load_rejects WHERE file = ?`, paths[1]); n != 2 {
		t.Errorf("the next run reports %d rejects of %s, want 2", n, paths[1])
	}
	if n := count(`SELECT count(*) FROM temp.load_rejects`); n != 2 {
		t.Errorf("the next run reports %d rejects in all, want 2", n)
	}

	// A changed file read in a third run replaces its row; the others stay.
	if err := os.WriteFile(paths[0], []byte("line 0 again\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = newRun()
	v, rel := keepFile(t, ctx, s, conn, paths[0])
	if v.Kept != nil || scans[v.Scan] {
		t.Errorf("the changed file was kept (%v) or read into an earlier scan (%s)", v.Kept, v.Scan)
	}
	if n := count(`SELECT count(*) FROM kept.files WHERE path = ?`, paths[0]); n != 1 {
		t.Errorf("%d rows of kept.files for the changed file, want 1", n)
	}
	if n := count(`SELECT count(*) FROM kept.files WHERE path = ? AND relation = ?`, paths[0], rel); n != 1 {
		t.Errorf("the changed file's row does not name its new relation %s", rel)
	}
	if n := count(`SELECT count(*) FROM kept.files`); n != 3 {
		t.Errorf("%d rows of kept.files, want 3", n)
	}
}

// TestMonthsOfManyFiles: the rows per month of 250 new relations are
// counted in statements of up to 100 (a UNION ALL of thousands took DuckDB
// longer to plan than to run), each under its own relation.
func TestMonthsOfManyFiles(t *testing.T) {
	ctx := context.Background()
	conn := openWarehouse(t, ctx)
	newRunRejects(t, ctx, conn)
	s, err := filecache.New(ctx, conn, filecache.Options{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	var rels []string
	for i := range 250 {
		rel := fmt.Sprintf("kept.file_%d", i)
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM range(%d) t(line)", rel, i%3+1)); err != nil {
			t.Fatal(err)
		}
		rels = append(rels, rel)
	}
	if err := s.Months(ctx, rels, "DATE '2026-10-01'"); err != nil {
		t.Fatal(err)
	}
	var n, wrong int
	if err := conn.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE rows <> regexp_extract(relation, '[0-9]+$')::INT % 3 + 1)
		FROM kept.months`).Scan(&n, &wrong); err != nil {
		t.Fatal(err)
	}
	if n != 250 || wrong != 0 {
		t.Errorf("kept.months: %d rows, %d with another relation's count; want 250, each its own", n, wrong)
	}
}

// TestAGrownFileIsReadFromWhereItEnded follows a month's activity file
// exported again every night with one more day: each night only the new
// lines are read, the file's relation holds every line, its months add up
// its pieces', and the pieces stay as long as the file refers to them.
func TestAGrownFileIsReadFromWhereItEnded(t *testing.T) {
	ctx := context.Background()
	conn := openWarehouse(t, ctx)
	dir := t.TempDir()
	path := filepath.Join(dir, "activity_2026-10.csv")
	const month = "(left(line, 7) || '-01')::DATE"
	run := 0
	store := func(refresh bool) *filecache.Store {
		run++
		newRunRejects(t, ctx, conn)
		s, err := filecache.New(ctx, conn, filecache.Options{RunID: fmt.Sprint("r", run), FullRefresh: refresh})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	write := func(text string) {
		// A second apart: each version has its own time.
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(time.Duration(-100+run) * time.Second)
		if err := os.Chtimes(path, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	// read reads the file as a source that allows appends does: the lines
	// after Grown.Offset when it may, else all of them.
	read := func(s *filecache.Store, appends, extendable bool) (*connectors.FileVersion, string, string) {
		t.Helper()
		v, err := s.Open(ctx, connectors.FileKey{Source: "platform", Table: "raw_activity", Path: path, Reading: "r1", Appends: appends})
		if err != nil {
			t.Fatal(err)
		}
		if v.Kept != nil {
			t.Fatalf("%s: kept as it was; it changed", path)
		}
		from, lines := path, int64(0)
		if v.Grown != nil {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			from = filepath.Join(dir, "tail.csv")
			if err := os.WriteFile(from, b[v.Grown.Offset:], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := conn.ExecContext(ctx, "CREATE TABLE "+v.Scan+" AS SELECT * FROM read_csv("+sqltext.Quote(from)+", header = false, columns = {'line': 'VARCHAR'})"); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+v.Scan).Scan(&lines); err != nil {
			t.Fatal(err)
		}
		rel, err := s.Keep(ctx, v, connectors.KeepSpec{Select: "SELECT line FROM " + v.Scan, Rows: lines, Read: lines, Extendable: extendable})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Months(ctx, []string{rel}, month); err != nil {
			t.Fatal(err)
		}
		if err := s.Collect(ctx); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := conn.QueryRowContext(ctx, "SELECT string_agg(line, ' ' ORDER BY line) FROM "+rel).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return v, rel, got
	}
	// months is the relation's kept.months, and what reading it gives.
	months := func(rel string) (kept, direct string) {
		t.Helper()
		q := `SELECT string_agg(strftime(m, '%Y-%m') || ':' || rows || ':' || digest, ' ' ORDER BY m) FROM (`
		if err := conn.QueryRowContext(ctx, q+`SELECT month AS m, rows, digest FROM kept.months WHERE relation = ?)`, rel).Scan(&kept); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, q+filecache.MonthDigests(rel, month)+`)`).Scan(&direct); err != nil {
			t.Fatal(err)
		}
		return kept, direct
	}
	// objects lists the relations and scans left in the store's schema.
	objects := func() string {
		t.Helper()
		var got string
		if err := conn.QueryRowContext(ctx, `SELECT string_agg(name, ' ' ORDER BY name) FROM (
			SELECT view_name AS name FROM duckdb_views() WHERE schema_name = 'kept' AND NOT internal
			UNION ALL SELECT table_name FROM duckdb_tables() WHERE schema_name = 'kept' AND table_name NOT IN ('files', 'rejects', 'months'))`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}

	write("2026-09-30 a\n2026-10-01 b\n")
	v1, rel1, got := read(store(false), true, true)
	if v1.Grown != nil || got != "2026-09-30 a 2026-10-01 b" {
		t.Fatalf("first version: grown %v, lines %q", v1.Grown, got)
	}

	// One more day, and a line of the next month: 26 bytes were kept.
	write("2026-09-30 a\n2026-10-01 b\n2026-10-02 c\n2026-11-01 d\n")
	v2, rel2, got := read(store(false), true, true)
	if v2.Grown == nil || v2.Grown.Offset != 26 || v2.Grown.Kept.Relation != rel1 || v2.Grown.Kept.Rows != 2 {
		t.Fatalf("second version: grown %+v; want from the 26 bytes of %s and its 2 rows", v2.Grown, rel1)
	}
	if got != "2026-09-30 a 2026-10-01 b 2026-10-02 c 2026-11-01 d" {
		t.Errorf("second version's rows: %q", got)
	}
	if kept, direct := months(rel2); kept != direct || direct == "" {
		t.Errorf("months of the grown file: kept.months says %q, its rows %q", kept, direct)
	}
	var nRows, nRead int64
	if err := conn.QueryRowContext(ctx, "SELECT rows, read FROM kept.files WHERE relation = ?", rel2).Scan(&nRows, &nRead); err != nil {
		t.Fatal(err)
	}
	if nRows != 4 || nRead != 4 {
		t.Errorf("kept.files counts %d rows, %d read; want 4 and 4", nRows, nRead)
	}

	// Again: the file's relation is the first version's, then each new
	// lines' (not the second version's, which goes).
	write("2026-09-30 a\n2026-10-01 b\n2026-10-02 c\n2026-11-01 d\n2026-11-02 e\n")
	v3, rel3, got := read(store(false), true, true)
	if v3.Grown == nil || v3.Grown.Kept.Relation != rel2 || v3.Grown.Kept.Rows != 4 {
		t.Fatalf("third version: grown %+v; want from %s", v3.Grown, rel2)
	}
	if got != "2026-09-30 a 2026-10-01 b 2026-10-02 c 2026-11-01 d 2026-11-02 e" {
		t.Errorf("third version's rows: %q", got)
	}
	if kept, direct := months(rel3); kept != direct {
		t.Errorf("months of the file grown twice: kept.months says %q, its rows %q", kept, direct)
	}
	tail2 := strings.Replace(v2.Scan, ".scan_", ".file_", 1)
	tail3 := strings.Replace(v3.Scan, ".scan_", ".file_", 1)
	want := []string{rel1, rel3, tail2, tail3, strings.Replace(rel1, ".file_", ".scan_", 1), v2.Scan, v3.Scan}
	for i, w := range want {
		want[i] = strings.TrimPrefix(w, "kept.")
	}
	slices.Sort(want)
	if got := objects(); got != strings.Join(want, " ") {
		t.Errorf("kept relations after the third version: %s; want %s", got, strings.Join(want, " "))
	}

	// Read whole, each of the ways the new lines cannot be read alone; each
	// version is the one before and more.
	text := "2026-09-30 A\n2026-10-01 b\n2026-10-02 c\n2026-11-01 d\n2026-11-02 e\n2026-11-03 f\n"
	for i, c := range []struct {
		name                string
		appends, extendable bool // read as a source allowing appends; this version may be extended
		refresh             bool
	}{
		{"a kept line changed", true, true, false},
		{"", true, true, false}, // ends inside its last line (read from the version before)
		{"the kept version ends inside a line", true, false, false},
		{"the version before is not extendable", true, true, false},
		{"the source does not allow appends", false, true, false},
		{"the version before was read by a source not allowing appends", true, true, false},
		{"--full-refresh", true, true, true},
	} {
		switch i {
		case 0:
		case 1:
			text += "2026-11-03 g"
		case 2:
			text += "\n2026-11-04 h\n"
		default:
			text += fmt.Sprintf("2026-11-%02d x\n", 5+i)
		}
		write(text)
		v, rel, got := read(store(c.refresh), c.appends, c.extendable)
		if c.name == "" {
			continue // the next case's version before
		}
		if v.Grown != nil {
			t.Errorf("%s: read from byte %d; want the whole file", c.name, v.Grown.Offset)
		}
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		slices.Sort(lines)
		if want := strings.Join(lines, " "); got != want {
			t.Errorf("%s: rows %q; want %q", c.name, got, want)
		}
		if got := objects(); got != strings.TrimPrefix(rel, "kept.")+" "+strings.TrimPrefix(v.Scan, "kept.") {
			t.Errorf("%s: kept relations %s; want only the new version's", c.name, got)
		}
	}
}

// TestAFileGrownEveryDayIsReadWholeAfterAMonth: a file extended every day
// has up to MaxPieces pieces (a month's days); the next growth reads it
// whole, so that a file that keeps growing is not read through ever more.
func TestAFileGrownEveryDayIsReadWholeAfterAMonth(t *testing.T) {
	ctx := context.Background()
	conn := openWarehouse(t, ctx)
	path := filepath.Join(t.TempDir(), "activity.csv")
	text := ""
	for day := 1; day <= filecache.MaxPieces+1; day++ {
		newRunRejects(t, ctx, conn)
		s, err := filecache.New(ctx, conn, filecache.Options{RunID: fmt.Sprint("r", day)})
		if err != nil {
			t.Fatal(err)
		}
		text += fmt.Sprintf("day %d\n", day)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(time.Duration(day-100) * time.Second)
		if err := os.Chtimes(path, mt, mt); err != nil {
			t.Fatal(err)
		}
		v, err := s.Open(ctx, connectors.FileKey{Source: "platform", Table: "raw_activity", Path: path, Reading: "r1", Appends: true})
		if err != nil {
			t.Fatal(err)
		}
		if grown, want := v.Grown != nil, day > 1 && day <= filecache.MaxPieces; grown != want {
			t.Fatalf("day %d: grown %v, want %v", day, grown, want)
		}
		from := path
		if v.Grown != nil {
			from = filepath.Join(t.TempDir(), "new.csv")
			if err := os.WriteFile(from, []byte(text[v.Grown.Offset:]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := conn.ExecContext(ctx, "CREATE TABLE "+v.Scan+" AS SELECT * FROM read_csv("+sqltext.Quote(from)+", header = false, columns = {'line': 'VARCHAR'})"); err != nil {
			t.Fatal(err)
		}
		rel, err := s.Keep(ctx, v, connectors.KeepSpec{Select: "SELECT line FROM " + v.Scan, Rows: 1, Read: 1, Extendable: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Collect(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+rel).Scan(&n); err != nil || n != day {
			t.Fatalf("day %d: %d rows (%v), want %d", day, n, err, day)
		}
	}
}
