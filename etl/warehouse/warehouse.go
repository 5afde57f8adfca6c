// Package warehouse owns uptake's DuckDB database: it opens the file, applies
// the engine settings (threads, memory limit, time zone) and creates the
// bookkeeping tables (runs, rejects). Every other package reaches DuckDB
// through a *sql.Conn obtained here.
//
// Quirks worth knowing (DuckDB 1.5):
//   - TEMP tables belong to one connection: a run keeps one *sql.Conn from
//     extract to publish so that the tables its sources loaded stay visible
//     (the publish's checkpoint has a connection of its own). Variables (SET
//     VARIABLE) and the search path are a connection's too.
//   - read_csv's store_rejects writes into connection-local temp tables
//     (reject_errors, reject_scans) that each scan overwrites unless given
//     its own names.
//   - The database file allows one writing process: the run lock (etl) keeps
//     a second run from waiting on it.
//   - Building large tables inside one long transaction is many times slower
//     than autocommitted CREATE TABLE AS (80 s instead of 2 s for one model at
//     10 M rows): runs build into a schema of their own and swap it in (Swap).
//   - A window aggregate with FILTER over a few large partitions is
//     pathologically slow (count(*) FILTER (...) OVER (PARTITION BY month):
//     12 s for 480 k rows); sum(CASE ...) OVER is not.
//   - NOT NULL constraints on a 10 M row insert cost more than the insert.
//   - x IN (five values or more) is planned as a hash join, which does not
//     keep the rows' order: a COPY or CREATE TABLE of an ordered table
//     through such a filter gets some rows out of order (a range does not).
package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" driver

	"github.com/uptake-dev/uptake/sql/sqltext"
)

// StorageVersion is the DuckDB storage format a new warehouse file is
// written in. DuckDB writes files readable by DuckDB 1.0 unless told
// otherwise; the 1.5 format compresses text with DICT_FSST, which makes the
// warehouse's tables faster to write (a full run of the bench data 10 to
// 13 % faster) and the file smaller. A warehouse created by an earlier
// uptake keeps its format. Files meant for others (out/uptake.duckdb) keep
// DuckDB's default, for older readers.
const StorageVersion = "v1.5.0"

// pathChars are the characters DuckDB's Go driver cannot take in a file's
// path: it cuts the path at the first '?' (its settings follow) and parses
// the rest as a URL, so a '#' loses the settings and a '%' may not parse.
const pathChars = "?#%"

// DSN is the data source name that opens the DuckDB file at path with
// settings ("name=value", DuckDB's own configuration options). A path
// holding a character the driver cannot take is refused, rather than
// opened as another file or without its settings.
func DSN(path string, settings ...string) (string, error) {
	if i := strings.IndexAny(path, pathChars); i >= 0 {
		return "", fmt.Errorf("the path %s holds %q, which DuckDB's Go driver reads as part of a URL: choose a path without ?, # or %%", path, path[i:i+1])
	}
	if path != "" && !filepath.IsAbs(path) && !strings.HasPrefix(path, ".") {
		// A colon in the first folder of a relative path ("2026-12-07T10:00/")
		// would read as a URL's scheme: "./" makes it a path.
		path = "./" + path
	}
	dsn := path
	if len(settings) > 0 {
		dsn += "?" + strings.Join(settings, "&")
	}
	// The driver's own reading: a path it cannot parse (a control
	// character) is refused here, with the path.
	if _, err := url.Parse(dsn); err != nil {
		return "", fmt.Errorf("the path %q cannot be opened by DuckDB's Go driver, which reads it as part of a URL (%v): choose another path", path, errors.Unwrap(err))
	}
	return dsn, nil
}

// Options are the engine settings.
type Options struct {
	// Path is the database file; empty or ":memory:" opens an in-memory database.
	Path string
	// MemoryLimit is DuckDB's memory_limit ("2GB"); empty keeps DuckDB's default.
	MemoryLimit string
	// Threads is DuckDB's thread count; 0 keeps DuckDB's default (one per core).
	Threads int
	// TimeZone is the IANA zone for TIMESTAMPTZ arithmetic and current_date.
	TimeZone string
	// TempDirectory is where DuckDB spills; empty keeps DuckDB's default.
	TempDirectory string
}

// Open opens (creating if needed) the warehouse and its bookkeeping tables.
func Open(ctx context.Context, opt Options) (*sql.DB, error) {
	path := opt.Path
	if path == ":memory:" {
		path = ""
	}
	// A setting of the database instance, read as a file is created
	// (DuckDB's own configuration, passed with the path).
	dsn, err := DSN(path, "storage_compatibility_version="+StorageVersion)
	if err != nil {
		return nil, fmt.Errorf("warehouse: %w", err)
	}
	if path != "" {
		if err := PrivateDir(filepath.Dir(path)); err != nil {
			return nil, fmt.Errorf("warehouse: %w", err)
		}
	}
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return nil, fmt.Errorf("warehouse: open %s: %w", path, err)
	}
	// One checkpoint a run, made beside the publish (etl) or as the
	// warehouse closes: with DuckDB's default (a checkpoint once the log
	// passes 16 MB), a night checkpointed in the middle of its models and
	// again at the close, each rewriting the catalog of a few hundred parts
	// (about 0.2 s a night, 0.3 to 1 s a full run, in runs alternated in
	// one sitting). A run's large writes
	// bypass the log (DuckDB writes them to the file as they are made), so
	// the log stays small.
	settings := []string{"SET checkpoint_threshold = '1GB'"}
	if opt.MemoryLimit != "" {
		settings = append(settings, fmt.Sprintf("SET memory_limit = %s", sqltext.Quote(opt.MemoryLimit)))
	}
	if opt.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET threads = %d", opt.Threads))
	}
	if opt.TimeZone != "" {
		settings = append(settings, fmt.Sprintf("SET GLOBAL TimeZone = %s", sqltext.Quote(opt.TimeZone)))
	}
	if opt.TempDirectory != "" {
		settings = append(settings, fmt.Sprintf("SET temp_directory = %s", sqltext.Quote(opt.TempDirectory)))
	}
	settings = append(settings, bookkeeping...)
	for _, s := range settings {
		if _, err := db.ExecContext(ctx, s); err != nil {
			db.Close()
			return nil, fmt.Errorf("warehouse: %s (check duckdb: in the config): %w", s, err)
		}
	}
	if path != "" {
		if err := PrivateFiles(path, path+".wal"); err != nil {
			db.Close()
			return nil, fmt.Errorf("warehouse: %w", err)
		}
	}
	return db, nil
}

// PrivateDir creates dir readable by this user only (0700): the warehouse
// holds users' e-mails and rejected raw lines. uptake's own folder
// (.uptake), created 0755 by an earlier version, is tightened; another
// existing folder named in the config is left as it is.
func PrivateDir(dir string) error {
	fi, err := os.Stat(dir)
	if os.IsNotExist(err) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return err
	}
	if filepath.Base(dir) == ".uptake" && fi.Mode().Perm()&0o077 != 0 {
		return os.Chmod(dir, 0o700)
	}
	return nil
}

// PrivateFiles makes the files that exist among paths readable by this
// user only (0600).
func PrivateFiles(paths ...string) error {
	for _, p := range paths {
		fi, err := os.Stat(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// bookkeeping creates the tables that outlive runs. Their columns are part
// of the published contract (runs) or of the ops person's tools (rejects).
var bookkeeping = []string{
	`CREATE TABLE IF NOT EXISTS runs (
		run_id VARCHAR PRIMARY KEY,
		job VARCHAR NOT NULL,
		trigger VARCHAR NOT NULL,
		window_start DATE,
		window_end DATE,
		started_at TIMESTAMPTZ NOT NULL,
		ended_at TIMESTAMPTZ,
		status VARCHAR NOT NULL,
		rows_in JSON,
		rows_out JSON,
		error VARCHAR
	)`,
	`CREATE TABLE IF NOT EXISTS watermarks (
		source VARCHAR PRIMARY KEY,
		last_day DATE NOT NULL,
		updated_at TIMESTAMPTZ NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS state (
		key VARCHAR PRIMARY KEY,
		value VARCHAR
	)`,
	`CREATE TABLE IF NOT EXISTS rejects (
		run_id VARCHAR NOT NULL,
		source VARCHAR NOT NULL,
		target_table VARCHAR NOT NULL,
		file VARCHAR NOT NULL,
		line BIGINT,
		"column" VARCHAR,
		reason VARCHAR NOT NULL,
		raw_line VARCHAR
	)`,
}

// Names runs q and returns its first column, as strings.
func Names(ctx context.Context, conn *sql.Conn, q string, args ...any) ([]string, error) {
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("warehouse: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Pairs runs q and returns its first two columns, as strings, row by row.
func Pairs(ctx context.Context, conn *sql.Conn, q string, args ...any) ([][2]string, error) {
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("warehouse: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
