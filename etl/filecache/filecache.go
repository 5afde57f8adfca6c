// Package filecache is the engine's connectors.FileStore: it keeps in the
// warehouse (schema kept) the rows sources read from each input file, so
// that a nightly run parses and copies only the files that changed.
//
// A file's version is its size, modification time, inode and change time,
// then its content (SHA-256): a file touched or copied again with the same
// bytes is not read again, a file rewritten with its old modification time
// restored (cp -p, rsync -t, unzip) is seen by its change time, and a file
// written within two seconds of being stamped is hashed next time, since
// its times may not show a later write. Where the file system has no change
// time, every file is hashed at each run. What a file's rows are also
// depends on how the source reads it (FileKey.Reading) and on the raw
// table's contract (sql/contract): a change of either reads it again.
// What a source read from a version (its relation, its counts, its rejects)
// is immutable: a changed file gets a new relation, and the old one stays
// until a successful run no longer refers to it (Collect), so that a failed
// run leaves the live tables' rows in place.
//
// A file that only grew (a month's export rewritten every night with one
// more day) is read from where its kept version ended, when its source
// allows it (FileKey.Appends, KeepSpec.Extendable): its relation is then a
// view of the kept version's pieces and the new lines' (kept.files.pieces),
// and its rows per month add up theirs.
package filecache

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/etl/warehouse"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// Schema is the warehouse schema the store keeps its tables in.
const Schema = "kept"

// MaxPieces is how many pieces a grown file's relation may have: a month's
// file extended every day. The next growth reads the file whole, so that a
// file that keeps growing is not read through ever more pieces.
const MaxPieces = 31

// racyWindow is how close to its stamping a file's modification time may be
// before a later run hashes it again: file systems with coarse timestamps
// may not change the time of a write in the same tick.
const racyWindow = 2 * time.Second

var ddl = []string{
	`CREATE SCHEMA IF NOT EXISTS kept`,
	`CREATE SEQUENCE IF NOT EXISTS kept.ids`,
	// One row per input file: the version read last and what came of it.
	`CREATE TABLE IF NOT EXISTS kept.files (
		source VARCHAR NOT NULL,
		target_table VARCHAR NOT NULL,
		path VARCHAR NOT NULL,
		reading VARCHAR NOT NULL,
		size BIGINT NOT NULL,
		mtime_ns BIGINT NOT NULL,
		change VARCHAR NOT NULL,
		sha256 VARCHAR NOT NULL,
		stamped_at TIMESTAMPTZ NOT NULL,
		relation VARCHAR NOT NULL,
		scan VARCHAR,
		rows BIGINT NOT NULL,
		read BIGINT NOT NULL,
		rejected BIGINT NOT NULL,
		run_id VARCHAR NOT NULL,
		-- a later run may read only the lines this version gains
		extendable BOOLEAN NOT NULL,
		-- for a grown file: the relations, comma-separated, whose union
		-- is relation (the first version's, then each growth's)
		pieces VARCHAR,
		PRIMARY KEY (source, target_table, path)
	)`,
	// The rejects of each kept relation, in the columns of the run's
	// temp.load_rejects (sql/contract): a run that keeps a file reports
	// its bad lines again.
	`CREATE TABLE IF NOT EXISTS kept.rejects AS SELECT NULL::VARCHAR AS relation, * FROM temp.load_rejects LIMIT 0`,
	// Each kept relation's rows per month (the raw table's month of a
	// row, sql/contract's @month) and their digest, a sum of row hashes:
	// what tells the engine which months of a raw table changed without
	// reading its kept rows again (see Months).
	`CREATE TABLE IF NOT EXISTS kept.months (
		relation VARCHAR NOT NULL,
		month DATE,
		rows BIGINT NOT NULL,
		digest HUGEINT NOT NULL
	)`,
}

// Store keeps files' rows for the runs of one warehouse. It uses the run's
// connection (the sources' rejects are in its temp.load_rejects).
type Store struct {
	conn    *sql.Conn
	runID   string
	refresh bool
	now     func() time.Time
	opened  map[[3]string]bool
	// contracts digests each raw table's DDL (sql/contract).
	contracts map[string]string
	hashes    map[*connectors.FileVersion]chan digest
	// catalog is kept.files as the run found it (read once, at the first
	// Open), keyed by source, table and path: only rows whose relation
	// still exists. A run opens each key once (source names are unique,
	// a source reads a path once per raw table), so the run's own Keep
	// and stamp updates need not reach it.
	catalog map[[3]string]record
	// pending are the files kept since the last Flush, by source, table
	// and path.
	pending map[[3]string]keptRow
	// ids are values of kept.ids taken but not used yet.
	ids []int64
	// unions are the pieces of the grown files' relations this run made.
	unions map[string][]string
}

// Options are a store's settings for one run.
type Options struct {
	// RunID is recorded with each version the run reads.
	RunID string
	// FullRefresh reads every file again, whatever was kept (--full-refresh).
	FullRefresh bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// New prepares the store's tables in the warehouse of conn, whose
// temp.load_rejects must exist.
func New(ctx context.Context, conn *sql.Conn, opt Options) (*Store, error) {
	if err := dropOlderShapes(ctx, conn); err != nil {
		return nil, err
	}
	for _, q := range ddl {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("file cache: %w", err)
		}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Store{conn: conn, runID: opt.RunID, refresh: opt.FullRefresh, now: opt.Now,
		opened: map[[3]string]bool{}, hashes: map[*connectors.FileVersion]chan digest{}, pending: map[[3]string]keptRow{},
		unions: map[string][]string{}}, nil
}

// dropOlderShapes drops the store's tables when an older uptake made them
// with other columns: the files are then read again (the relations the
// live tables read stay until the next successful run collects them).
func dropOlderShapes(ctx context.Context, conn *sql.Conn) error {
	want := map[string]string{
		"files":   "source,target_table,path,reading,size,mtime_ns,change,sha256,stamped_at,relation,scan,rows,read,rejected,run_id,extendable,pieces",
		"rejects": "relation,source,target_table,file,line,column,reason,raw_line",
		"months":  "relation,month,rows,digest",
	}
	for table, cols := range want {
		got, err := warehouse.Names(ctx, conn, `SELECT string_agg(column_name, ',' ORDER BY column_index) FROM duckdb_columns()
			WHERE schema_name = 'kept' AND table_name = ? AND database_name = current_database() HAVING count(*) > 0`, table)
		if err != nil {
			return err
		}
		if len(got) == 1 && got[0] != cols {
			if _, err := conn.ExecContext(ctx, "DROP TABLE kept."+table); err != nil {
				return fmt.Errorf("file cache: %w", err)
			}
		}
	}
	return nil
}

type record struct {
	reading, sha, relation, change string
	size, mtimeNS                  int64
	stampedAt                      time.Time
	rows, read, rejected           int64
	extendable                     bool
	pieces                         []string // of a grown file's relation
}

// Open looks a file up: it is kept when an earlier run read the same
// content the same way.
func (s *Store) Open(ctx context.Context, key connectors.FileKey) (*connectors.FileVersion, error) {
	fi, err := os.Stat(key.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key.Path, err)
	}
	s.opened[[3]string{key.Source, key.Table, key.Path}] = true
	v := &connectors.FileVersion{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}
	change := changeStamp(fi)
	reading, err := s.reading(ctx, key)
	if err != nil {
		return nil, err
	}
	if s.catalog == nil {
		if s.catalog, err = loadCatalog(ctx, s.conn); err != nil {
			return nil, err
		}
	}
	r, found := s.catalog[[3]string{key.Source, key.Table, key.Path}]
	var hashed *digest // the content's, when computed to compare
	if found && !s.refresh && r.reading == reading && r.size == v.Size {
		same := r.mtimeNS == v.ModTime.UnixNano() && change != "" && r.change == change &&
			v.ModTime.Before(r.stampedAt.Add(-racyWindow))
		if !same {
			// Touched, copied again, or written too close to its stamping
			// to trust the time: the content decides.
			d := digestFile(key.Path, 0)
			if d.err != nil {
				return nil, d.err
			}
			hashed = &d
			if same = d.sum == r.sha; same {
				if _, err := s.conn.ExecContext(ctx, `UPDATE kept.files SET mtime_ns = ?, change = ?, stamped_at = ? WHERE source = ? AND target_table = ? AND path = ?`,
					v.ModTime.UnixNano(), change, s.now(), key.Source, key.Table, key.Path); err != nil {
					return nil, fmt.Errorf("file cache: %w", err)
				}
			}
		}
		if same {
			v.SHA256 = r.sha
			v.Kept = &connectors.KeptFile{Relation: r.relation, Rows: r.rows, Read: r.read, Rejected: r.rejected}
			if r.rejected == 0 {
				return v, nil
			}
			// Its bad lines are this run's too.
			if _, err := s.conn.ExecContext(ctx, `INSERT INTO temp.load_rejects
				SELECT source, target_table, file, line, "column", reason, raw_line FROM kept.rejects WHERE relation = ? ORDER BY line`, r.relation); err != nil {
				return nil, fmt.Errorf("file cache: rejects of %s: %w", key.Path, err)
			}
			return v, nil
		}
	}
	if found && !s.refresh && r.reading == reading && r.size < v.Size && key.Appends && r.extendable && r.sha != "" && len(r.pieces) < MaxPieces {
		// Grown: when the kept version's bytes start this one and end a
		// line, only the lines after them are new.
		d := digestFile(key.Path, r.size)
		if d.err != nil {
			return nil, d.err
		}
		hashed = &d
		if d.prefixSum == r.sha && d.prefixEndsLine {
			v.Grown = &connectors.Growth{Offset: r.size, Kept: connectors.KeptFile{Relation: r.relation, Rows: r.rows, Read: r.read, Rejected: r.rejected}}
		}
	}
	id, err := s.nextID(ctx)
	if err != nil {
		return nil, fmt.Errorf("file cache: %w", err)
	}
	v.Scan = fmt.Sprintf("%s.scan_%d", Schema, id)
	// The content is hashed while the source parses it (unless it was
	// just hashed to compare).
	ch := make(chan digest, 1)
	if hashed != nil {
		ch <- *hashed
	} else {
		go func() { ch <- digestFile(key.Path, 0) }()
	}
	s.hashes[v] = ch
	return v, nil
}

// loadCatalog reads kept.files, leaving out the rows whose relation is
// gone (dropped by hand, or by an older uptake): those files are read again.
func loadCatalog(ctx context.Context, conn *sql.Conn) (map[[3]string]record, error) {
	rows, err := conn.QueryContext(ctx, `SELECT source, target_table, path, reading, sha256, relation, size, mtime_ns, change, stamped_at, rows, read, rejected,
			extendable, coalesce(pieces, '')
		FROM kept.files f
		WHERE relation IN (SELECT 'kept.' || view_name FROM duckdb_views() WHERE schema_name = 'kept'
		                   UNION ALL SELECT 'kept.' || table_name FROM duckdb_tables() WHERE schema_name = 'kept')`)
	if err != nil {
		return nil, fmt.Errorf("file cache: read the catalog: %w", err)
	}
	defer rows.Close()
	out := map[[3]string]record{}
	for rows.Next() {
		var k [3]string
		var r record
		var pieces string
		if err := rows.Scan(&k[0], &k[1], &k[2], &r.reading, &r.sha, &r.relation, &r.size, &r.mtimeNS, &r.change, &r.stampedAt, &r.rows, &r.read, &r.rejected,
			&r.extendable, &pieces); err != nil {
			return nil, fmt.Errorf("file cache: read the catalog: %w", err)
		}
		if pieces != "" {
			r.pieces = strings.Split(pieces, ",")
		}
		out[k] = r
	}
	return out, rows.Err()
}

// piecesQuery lists, as p, the pieces of every grown file's relation.
const piecesQuery = `SELECT unnest(string_split(pieces, ',')) AS p FROM kept.files WHERE pieces IS NOT NULL`

// Collect, after a successful run, forgets the files the run did not open
// (removed, or no longer configured) and drops every relation no kept file
// refers to: the live tables now read only what the run kept.
func (s *Store) Collect(ctx context.Context) error {
	rows, err := s.conn.QueryContext(ctx, `SELECT source, target_table, path FROM kept.files`)
	if err != nil {
		return fmt.Errorf("file cache: %w", err)
	}
	var gone [][3]string
	for rows.Next() {
		var k [3]string
		if err := rows.Scan(&k[0], &k[1], &k[2]); err != nil {
			rows.Close()
			return err
		}
		if !s.opened[k] {
			gone = append(gone, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range gone {
		if _, err := s.conn.ExecContext(ctx, `DELETE FROM kept.files WHERE source = ? AND target_table = ? AND path = ?`, k[0], k[1], k[2]); err != nil {
			return fmt.Errorf("file cache: forget %s: %w", k[2], err)
		}
	}
	// A grown file's pieces keep their months: the next growth adds them up.
	for _, table := range []string{"rejects", "months"} {
		if _, err := s.conn.ExecContext(ctx, `DELETE FROM kept.`+table+` WHERE relation NOT IN (SELECT relation FROM kept.files
			UNION ALL `+piecesQuery+`)`); err != nil {
			return fmt.Errorf("file cache: %w", err)
		}
	}
	// Views first: a view over a scan table goes before the table.
	for _, kind := range []string{"VIEW", "TABLE"} {
		q := `SELECT view_name FROM duckdb_views() WHERE schema_name = 'kept' AND NOT internal AND database_name = current_database()`
		if kind == "TABLE" {
			q = `SELECT table_name FROM duckdb_tables() WHERE schema_name = 'kept' AND table_name NOT IN ('files', 'rejects', 'months') AND database_name = current_database()`
		}
		names, err := warehouse.Names(ctx, s.conn, q)
		if err != nil {
			return err
		}
		// A piece is a relation Keep made, named after its scan.
		used, err := warehouse.Names(ctx, s.conn, `SELECT relation FROM kept.files UNION ALL SELECT scan FROM kept.files WHERE scan IS NOT NULL
			UNION ALL `+piecesQuery+`
			UNION ALL SELECT replace(p, '.file_', '.scan_') FROM (`+piecesQuery+`)`)
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, u := range used {
			keep[u] = true
		}
		for _, n := range names {
			if keep[Schema+"."+n] {
				continue
			}
			if _, err := s.conn.ExecContext(ctx, "DROP "+kind+" IF EXISTS "+Schema+"."+sqltext.Ident(n)); err != nil {
				return fmt.Errorf("file cache: drop %s: %w", n, err)
			}
		}
	}
	return nil
}

// reading is the key's Reading with the raw table's contract: a new
// column, or another type, reads the file again.
func (s *Store) reading(ctx context.Context, key connectors.FileKey) (string, error) {
	if s.contracts == nil {
		models, err := uptakesql.Contract()
		if err != nil {
			return "", err
		}
		s.contracts = map[string]string{}
		for _, m := range models {
			sum := sha256.Sum256([]byte(sqltext.StripComments(m.SQL))) // a comment changes no row
			s.contracts[m.Name] = hex.EncodeToString(sum[:8])
		}
	}
	return key.Reading + "/" + s.contracts[key.Table], nil
}

func formatStamp(ino uint64, sec, nsec int64) string {
	return fmt.Sprintf("%d:%d.%09d", ino, sec, nsec)
}

// digest is what digestFile found of a file's content.
type digest struct {
	sum string // SHA-256 of the content, in hex
	// prefixSum is the SHA-256 of the first bytes asked for, and
	// prefixEndsLine says whether the last of them is a line break.
	prefixSum      string
	prefixEndsLine bool
	err            error
}

// digestFile hashes a file's content, and its first prefix bytes on the way
// when prefix is positive (and no more than the file holds).
func digestFile(path string, prefix int64) digest {
	f, err := os.Open(path)
	if err != nil {
		return digest{err: fmt.Errorf("%s: %w", path, err)}
	}
	defer f.Close()
	var d digest
	h := sha256.New()
	if prefix > 0 {
		w := &lastByte{w: h}
		n, err := io.CopyN(w, f, prefix)
		if err != nil && !errors.Is(err, io.EOF) {
			return digest{err: fmt.Errorf("%s: %w", path, err)}
		}
		if n == prefix {
			d.prefixSum = hex.EncodeToString(h.Sum(nil))
			d.prefixEndsLine = w.last == '\n'
		}
	}
	if _, err := io.Copy(h, f); err != nil {
		return digest{err: fmt.Errorf("%s: %w", path, err)}
	}
	d.sum = hex.EncodeToString(h.Sum(nil))
	return d
}

// lastByte passes writes on to w and remembers the last byte written.
type lastByte struct {
	w    io.Writer
	last byte
}

func (l *lastByte) Write(p []byte) (int, error) {
	if len(p) > 0 {
		l.last = p[len(p)-1]
	}
	return l.w.Write(p)
}
