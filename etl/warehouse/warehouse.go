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
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2" // the "duckdb" driver, and its appender

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
	settings := []string{}
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

// The warehouse keeps two build schemas. A run rebuilds the one that is not
// live, then Swap points the views of schema main at it in one transaction:
// readers see all the old tables or all the new ones, never a mix.
const (
	Blue  = "blue"
	Green = "green"
)

// NextBuild returns the schema a run should build into (the one not live)
// and the live one ("" before the first successful run).
func NextBuild(ctx context.Context, conn *sql.Conn) (build, live string, err error) {
	err = conn.QueryRowContext(ctx, `SELECT value FROM main.state WHERE key = 'live_schema'`).Scan(&live)
	if errors.Is(err, sql.ErrNoRows) {
		return Blue, "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("warehouse state: %w", err)
	}
	if live == Blue {
		return Green, live, nil
	}
	return Blue, live, nil
}

// StartBuild empties the build schema and makes it the first place
// unqualified names are created in and looked up (then main).
func StartBuild(ctx context.Context, conn *sql.Conn, build string) error {
	for _, q := range []string{
		"DROP SCHEMA IF EXISTS " + sqltext.Ident(build) + " CASCADE",
		"CREATE SCHEMA " + sqltext.Ident(build),
		"SET search_path = " + sqltext.Quote(build+",main"),
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("warehouse: %s: %w", q, err)
		}
	}
	return nil
}

// PartSuffix ends the name of a build table that holds part of a raw
// table's rows, the raw table being a view of it and of the file cache's
// relations: main gets no view of it, nor of any build table whose name
// has a double underscore (the build's own bookkeeping).
const PartSuffix = "__copied"

// Swap makes the build schema live: in one transaction every table (and
// view) of it, but the build's own (a name with "__"),
// gets a view of the same name in main (except main's own bookkeeping
// tables: the runs mart is a published copy of main.runs), views of tables
// it no longer has are dropped, and the state records it. The previous
// build is then dropped. The extra statements run inside the same
// transaction (bookkeeping that must change with the data, such as
// watermarks).
func Swap(ctx context.Context, conn *sql.Conn, build, previous string, extra ...string) error {
	tables, err := Names(ctx, conn, `SELECT table_name FROM duckdb_tables() WHERE schema_name = $1 AND database_name = current_database()
		AND NOT contains(table_name, '__')
		UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = $1 AND NOT internal AND database_name = current_database()
		ORDER BY 1`, build)
	if err != nil {
		return err
	}
	mainTables, err := Names(ctx, conn, `SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND database_name = current_database()`)
	if err != nil {
		return err
	}
	views, err := Names(ctx, conn, `SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal AND database_name = current_database()`)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	stmts := []string{"BEGIN TRANSACTION"}
	for _, t := range tables {
		if bookkept[t] {
			// A published copy of a bookkeeping table (the runs mart): main
			// keeps the table itself, the copy stays in the build schema.
			continue
		}
		keep[t] = true
		if contains(mainTables, t) {
			stmts = append(stmts, "DROP TABLE main."+sqltext.Ident(t)) // left by an older version
		}
		stmts = append(stmts, fmt.Sprintf("CREATE OR REPLACE VIEW main.%s AS SELECT * FROM %s.%s", sqltext.Ident(t), sqltext.Ident(build), sqltext.Ident(t)))
	}
	for _, v := range views {
		if !keep[v] {
			stmts = append(stmts, "DROP VIEW main."+sqltext.Ident(v))
		}
	}
	stmts = append(stmts, extra...)
	stmts = append(stmts,
		"INSERT OR REPLACE INTO main.state VALUES ('live_schema', "+sqltext.Quote(build)+")",
		"COMMIT")
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return fmt.Errorf("warehouse: swap in %s: %s: %w", build, q, err)
		}
	}
	if previous != "" && previous != build {
		if _, err := conn.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+sqltext.Ident(previous)+" CASCADE"); err != nil {
			return fmt.Errorf("warehouse: drop previous build %s: %w", previous, err)
		}
	}
	return nil
}

// bookkept are main's own tables, never replaced by a build.
var bookkept = map[string]bool{"runs": true, "rejects": true, "state": true, "watermarks": true}

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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// RowWriter is the engine's connectors.RowWriter on a run's connection.
type RowWriter struct{ Conn *sql.Conn }

// Append adds rows to a connection-local table (see AppendTemp).
func (w RowWriter) Append(_ context.Context, table string, rows [][]driver.Value) error {
	return AppendTemp(w.Conn, table, rows)
}

// AppendTemp adds rows to a connection-local (TEMP) table with DuckDB's
// appender: no SQL statement per row. Each row's values follow the table's
// column order. A float64 or a decimal string for a DECIMAL column is
// rounded to its scale as DuckDB's CAST does (half away from zero): the
// appender itself would store a float's bits as nonsense (19.99 as 0.19).
func AppendTemp(conn *sql.Conn, table string, rows [][]driver.Value) error {
	if len(rows) == 0 {
		return nil
	}
	decimals, err := decimalColumns(conn, table)
	if err != nil {
		return err
	}
	return conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", table)
		if err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
		for _, r := range rows {
			copied := false
			for i, d := range decimals {
				if i < len(r) && d != nil && r[i] != nil {
					if !copied { // the caller's row stays as it was
						r, copied = slices.Clone(r), true
					}
					if r[i], err = toDecimal(r[i], *d); err != nil {
						a.Close()
						return fmt.Errorf("append to %s: %w", table, err)
					}
				}
			}
			if err := a.AppendRow(r...); err != nil {
				a.Close()
				return fmt.Errorf("append to %s: %w", table, err)
			}
		}
		return a.Close()
	})
}

// decimalColumns gives, by position, the width and scale of the DECIMAL
// columns of a temp table (nil for the others).
func decimalColumns(conn *sql.Conn, table string) ([]*duckdb.Decimal, error) {
	rows, err := conn.QueryContext(context.Background(), `SELECT numeric_precision, numeric_scale, data_type LIKE 'DECIMAL%'
		FROM duckdb_columns() WHERE database_name = 'temp' AND table_name = ? ORDER BY column_index`, table)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", table, err)
	}
	defer rows.Close()
	var out []*duckdb.Decimal
	for rows.Next() {
		var w, s sql.NullInt64
		var dec bool
		if err := rows.Scan(&w, &s, &dec); err != nil {
			return nil, err
		}
		if !dec {
			out = append(out, nil)
			continue
		}
		out = append(out, &duckdb.Decimal{Width: uint8(w.Int64), Scale: uint8(s.Int64)})
	}
	return out, rows.Err()
}

// decimalText is a number as a DECIMAL column takes it from text.
var decimalText = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// toDecimal turns a number (any integer, a float as written, that is the
// shortest decimal that reads back as it, decimal text, a decimal of
// another scale) into d's type, rounded to its scale half away from zero.
// A value with more digits than the type holds is an error, as for CAST.
func toDecimal(v driver.Value, d duckdb.Decimal) (driver.Value, error) {
	var r big.Rat
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v is not a number", x)
		}
		r.SetString(strconv.FormatFloat(x, 'f', -1, 64))
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("%v is not a number", x)
		}
		r.SetString(strconv.FormatFloat(float64(x), 'f', -1, 32))
	case string:
		t := strings.TrimSpace(x)
		if !decimalText.MatchString(t) {
			return nil, fmt.Errorf("%q is not a number", x)
		}
		r.SetString(t)
	case duckdb.Decimal:
		if x.Value == nil {
			return nil, nil
		}
		r.SetFrac(x.Value, pow10(int(x.Scale)))
	default:
		switch rv := reflect.ValueOf(v); {
		case rv.CanInt():
			r.SetInt64(rv.Int())
		case rv.CanUint():
			r.SetUint64(rv.Uint())
		default:
			return v, nil // the appender says what it cannot take
		}
	}
	r.Mul(&r, new(big.Rat).SetInt(pow10(int(d.Scale))))
	// Half away from zero: add or take a half, then truncate.
	half := big.NewRat(1, 2)
	if r.Sign() < 0 {
		r.Sub(&r, half)
	} else {
		r.Add(&r, half)
	}
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if new(big.Int).Abs(q).Cmp(pow10(int(d.Width))) >= 0 {
		return nil, fmt.Errorf("%v is too large for DECIMAL(%d, %d)", v, d.Width, d.Scale)
	}
	return duckdb.Decimal{Width: d.Width, Scale: d.Scale, Value: q}, nil
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }
