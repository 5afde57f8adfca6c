package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
)

func TestBlueGreenSwap(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "w.duckdb"), Threads: 1, MemoryLimit: "500MB", TimeZone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Settings hold on every connection of the pool, not only the first.
	other, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var tz, mem string
	var threads int
	if err := other.QueryRowContext(ctx, "SELECT current_setting('TimeZone'), current_setting('threads'), current_setting('memory_limit')").Scan(&tz, &threads, &mem); err != nil ||
		tz != "Europe/Paris" || threads != 1 || !strings.Contains(mem, "MiB") {
		t.Errorf("TimeZone = %q, threads = %d, memory_limit = %q, %v", tz, threads, mem, err)
	}
	other.Close()

	build := func(values string, tables ...string) string {
		t.Helper()
		b, live, err := NextBuild(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		if err := StartBuild(ctx, conn, b); err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			if _, err := conn.ExecContext(ctx, "CREATE TABLE "+tb+" AS SELECT "+values+" AS v"); err != nil {
				t.Fatal(err)
			}
		}
		if err := Swap(ctx, conn, b, live); err != nil {
			t.Fatal(err)
		}
		return b
	}
	value := func(table string) (v string) {
		t.Helper()
		if err := conn.QueryRowContext(ctx, "SELECT v FROM main."+table).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	if b := build("'one'", "kpi", "old_only"); b != Blue {
		t.Errorf("first build in %s, want blue", b)
	}
	if value("kpi") != "one" || value("old_only") != "one" {
		t.Error("first build not visible through main")
	}
	// A build that fails before Swap changes nothing readers see.
	b, _, _ := NextBuild(ctx, conn)
	if b != Green {
		t.Fatalf("second build in %s, want green", b)
	}
	StartBuild(ctx, conn, b)
	conn.ExecContext(ctx, "CREATE TABLE kpi AS SELECT 'half' AS v")
	if value("kpi") != "one" {
		t.Error("an unfinished build is visible")
	}
	// The next successful build replaces every table at once, drops views of
	// tables it no longer has, and drops the previous build.
	if b := build("'two'", "kpi"); b != Green {
		t.Errorf("build in %s, want green", b)
	}
	if value("kpi") != "two" {
		t.Error("second build not visible")
	}
	var n int
	conn.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_views() WHERE schema_name = 'main' AND view_name = 'old_only'").Scan(&n)
	if n != 0 {
		t.Error("view of a table the new build lacks was kept")
	}
	conn.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'blue'").Scan(&n)
	if n != 0 {
		t.Error("previous build schema not dropped")
	}
	// Bookkeeping tables stay in main.
	conn.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name IN ('runs', 'rejects', 'state')").Scan(&n)
	if n != 3 {
		t.Errorf("%d bookkeeping tables in main, want 3", n)
	}
	// A build may hold a published copy of a bookkeeping table (the runs
	// mart): it swaps in, and main keeps its own table.
	b = build("'three'", "kpi", "runs")
	if value("kpi") != "three" {
		t.Error("build with a runs copy not visible")
	}
	conn.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'runs'").Scan(&n)
	var copied string
	if err := conn.QueryRowContext(ctx, "SELECT v FROM "+b+".runs").Scan(&copied); err != nil || n != 1 || copied != "three" {
		t.Errorf("main.runs tables: %d; %s.runs: %q, %v", n, b, copied, err)
	}
}

// TestAppendTempRoundsDecimals: amounts appended to a DECIMAL column keep
// their value, rounded to the cent as DuckDB's CAST rounds.
func TestAppendTempRoundsDecimals(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE amounts (id INTEGER, v DECIMAL(18, 2))"); err != nil {
		t.Fatal(err)
	}
	in := []driver.Value{19.99, 0.29, 1.005, 123456789012.35, -2.675, "7.125", nil, int64(0),
		int64(5), int32(-5), float32(19.99), " 12.5", duckdb.Decimal{Width: 18, Scale: 4, Value: big.NewInt(123456)}, "-1e2"}
	var rows [][]driver.Value
	for i, v := range in {
		rows = append(rows, []driver.Value{int32(i), v})
	}
	if err := AppendTemp(conn, "amounts", rows); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := conn.QueryRowContext(ctx, "SELECT string_agg(coalesce(v::VARCHAR, 'NULL'), ' ' ORDER BY id) FROM amounts").Scan(&got); err != nil {
		t.Fatal(err)
	}
	// 1.005 is 1.00499999999999989... as a float64, but written 1.005: it
	// rounds as written, like the report's text.
	if want := "19.99 0.29 1.01 123456789012.35 -2.68 7.13 NULL 0.00 5.00 -5.00 19.99 12.50 12.35 -100.00"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if in[0] != 19.99 {
		t.Errorf("the caller's row was changed: %v", in[0])
	}
	// What CAST refuses is an error, never a wrong amount: too many digits
	// for DECIMAL(18, 2), text that is not a decimal number, NaN.
	for _, bad := range []driver.Value{1e17, "1e30", -1e16, "1/3", "0x10", math.NaN(), math.Inf(1)} {
		if err := AppendTemp(conn, "amounts", [][]driver.Value{{int32(99), bad}}); err == nil {
			t.Errorf("%v was appended", bad)
		}
	}
}

// TestNewWarehousesUseTheNewerStorageFormat: a warehouse file Open creates
// is in StorageVersion's format; one an earlier uptake created in DuckDB's
// default format opens as it is and stays in that format.
func TestNewWarehousesUseTheNewerStorageFormat(t *testing.T) {
	ctx := context.Background()
	version := func(db *sql.DB) string {
		t.Helper()
		var v string
		if err := db.QueryRowContext(ctx, "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	dir := t.TempDir()
	fresh := filepath.Join(dir, "new.duckdb")
	db, err := Open(ctx, Options{Path: fresh})
	if err != nil {
		t.Fatal(err)
	}
	if v := version(db); v != StorageVersion+"+" {
		t.Errorf("a new warehouse's storage version = %q, want %s+", v, StorageVersion)
	}
	db.Close()

	older := filepath.Join(dir, "older.duckdb")
	plain, err := sql.Open("duckdb", older)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.ExecContext(ctx, "CREATE TABLE kept_rows AS SELECT 'text ' || range AS s FROM range(1000)"); err != nil {
		t.Fatal(err)
	}
	plain.Close()
	db, err = Open(ctx, Options{Path: older})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM kept_rows").Scan(&n); err != nil || n != 1000 {
		t.Errorf("an older warehouse's table: %d rows, %v; want 1000", n, err)
	}
	if v := version(db); v != "v1.0.0+" {
		t.Errorf("an older warehouse's storage version = %q, want it kept as v1.0.0+", v)
	}
}

// TestPathsTheDriverCannotTakeAreRefused: DuckDB's Go driver cuts a path at
// its first '?' and reads the rest as a URL. Before DSN refused them, a '?'
// opened another file, a '#' dropped the settings (the storage format; a
// read-only open would have been read-write) and a '%' failed to parse.
// Other unusual characters open the file asked for, with its settings.
func TestPathsTheDriverCannotTakeAreRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, name := range []string{"what?", "C#", "100%"} {
		path := filepath.Join(dir, name, "warehouse.duckdb")
		db, err := Open(ctx, Options{Path: path})
		if err == nil {
			db.Close()
			t.Errorf("%s: opened", path)
			continue
		}
		if want := "holds \"" + name[len(name)-1:] + "\""; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want it to name the path and %s", path, err, want)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a file was created (%v)", path, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left in the folder: %v", names)
	}

	if _, err := Open(ctx, Options{Path: filepath.Join(dir, "tab\there", "w.duckdb")}); err == nil || !strings.Contains(err.Error(), "cannot be opened by DuckDB's Go driver") {
		t.Errorf("a path with a tab: %v, want it refused", err)
	}

	// A relative path whose first folder holds a colon would read as a
	// URL's scheme: it opens as the path it is.
	t.Chdir(dir)
	colon := filepath.Join("2026-12-07T10:00", "warehouse.duckdb")
	db, err := Open(ctx, Options{Path: colon})
	if err != nil {
		t.Fatalf("%s: %v", colon, err)
	}
	db.Close()
	if _, err := os.Stat(filepath.Join(dir, colon)); err != nil {
		t.Errorf("%s was not created: %v", colon, err)
	}

	odd := filepath.Join(dir, "ventes & clients (été) +1", "warehouse.duckdb")
	db, err = Open(ctx, Options{Path: odd})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var file, version string
	if err := db.QueryRowContext(ctx, "SELECT path, tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()").Scan(&file, &version); err != nil {
		t.Fatal(err)
	}
	if file != odd || version != StorageVersion+"+" {
		t.Errorf("opened %s in format %s, want %s in %s+", file, version, odd, StorageVersion)
	}
}

// TestTheWarehouseCheckpointsAsItCloses: a run's writes stay in DuckDB's log
// past its default 16 MB (each checkpoint rewrites the catalog of every
// part), and the close checkpoints them into the file, leaving no log.
func TestTheWarehouseCheckpointsAsItCloses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := Open(ctx, Options{Path: path, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE rows_of_a_night (s VARCHAR)"); err != nil {
		t.Fatal(err)
	}
	// Inserts smaller than a row group go through the log: 4 × 60,000 rows
	// of 100 characters, about 25 MB.
	for i := 0; i < 4; i++ {
		if _, err := db.ExecContext(ctx, "INSERT INTO rows_of_a_night SELECT repeat(chr(65 + (range % 26)::INTEGER), 99) || range FROM range(60000)"); err != nil {
			t.Fatal(err)
		}
	}
	var logged int64
	if fi, err := os.Stat(path + ".wal"); err == nil {
		logged = fi.Size()
	}
	if logged < 24_000_000 {
		t.Fatalf("the log after 25 MB of inserts: %d bytes; want them all, not yet checkpointed", logged)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + ".wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the log after the close: %d bytes, want none", fi.Size())
	}
	db, err = Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM rows_of_a_night").Scan(&n); err != nil || n != 240000 {
		t.Errorf("after reopening: %d rows, %v; want 240,000", n, err)
	}
}
