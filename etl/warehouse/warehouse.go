// Package warehouse owns uptake's DuckDB database: it opens the file, applies
// the engine settings (threads, memory limit, time zone) and creates the
// bookkeeping tables (runs, rejects). Every other package reaches DuckDB
// through a *sql.Conn obtained here.
//
// Quirks worth knowing (DuckDB 1.5):
//   - TEMP tables belong to one connection: a run keeps one *sql.Conn from
//     extract to publish so that the tables its sources loaded stay visible.
//   - read_csv's store_rejects writes into connection-local temp tables
//     (reject_errors, reject_scans) that each scan overwrites unless given
//     its own names.
//   - The database file allows one writing process: the run lock (etl) keeps
//     a second run from waiting on it.
package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

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
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("warehouse: %w", err)
		}
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return nil, fmt.Errorf("warehouse: open %s: %w", path, err)
	}
	settings := []string{}
	if opt.MemoryLimit != "" {
		settings = append(settings, fmt.Sprintf("SET memory_limit = %s", Quote(opt.MemoryLimit)))
	}
	if opt.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET threads = %d", opt.Threads))
	}
	if opt.TimeZone != "" {
		settings = append(settings, fmt.Sprintf("SET TimeZone = %s", Quote(opt.TimeZone)))
	}
	if opt.TempDirectory != "" {
		settings = append(settings, fmt.Sprintf("SET temp_directory = %s", Quote(opt.TempDirectory)))
	}
	settings = append(settings, bookkeeping...)
	for _, s := range settings {
		if _, err := db.ExecContext(ctx, s); err != nil {
			db.Close()
			return nil, fmt.Errorf("warehouse: %s: %w", s, err)
		}
	}
	return db, nil
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

// Quote returns s as a SQL string literal.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Ident returns s as a quoted SQL identifier.
func Ident(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Count returns the number of rows of a table.
func Count(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, table string) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}
