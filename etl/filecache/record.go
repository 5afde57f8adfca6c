package filecache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/uptake-dev/uptake/connectors"
)

// keptRow is a kept file's row of kept.files, to be recorded by Flush.
type keptRow struct {
	relation string
	values   []any // kept.files' columns
}

// Keep makes the relation of a version the source read, and leaves the
// version to be recorded, with its rejects, by the next Flush. The
// relation of a grown version (v.Grown) is a view of the kept version's
// pieces and of the new lines' rows, which k describes.
func (s *Store) Keep(ctx context.Context, v *connectors.FileVersion, k connectors.KeepSpec) (string, error) {
	h, ok := s.hashes[v]
	if !ok {
		return "", fmt.Errorf("file cache: %s was not opened to be read", v.Key.Path)
	}
	delete(s.hashes, v)
	hs := <-h
	if hs.err != nil {
		return "", hs.err
	}
	key := [3]string{v.Key.Source, v.Key.Table, v.Key.Path}
	relation := strings.Replace(v.Scan, ".scan_", ".file_", 1)
	create := "CREATE VIEW " + relation + " AS " + k.Select
	scan := sql.NullString{String: v.Scan, Valid: true}
	if k.Materialize {
		create = "CREATE TABLE " + relation + " AS " + k.Select
		scan = sql.NullString{}
	}
	if _, err := s.conn.ExecContext(ctx, create); err != nil {
		return "", fmt.Errorf("%s: keep rows: %w", v.Key.Path, err)
	}
	if k.Materialize {
		if _, err := s.conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+v.Scan); err != nil {
			return "", fmt.Errorf("%s: %w", v.Key.Path, err)
		}
	}
	pieces := sql.NullString{}
	if g := v.Grown; g != nil {
		prior, ok := s.catalog[key]
		if !ok || prior.relation != g.Kept.Relation {
			return "", fmt.Errorf("file cache: %s grew from a version that is not kept", v.Key.Path)
		}
		leaves := prior.pieces
		if len(leaves) == 0 {
			leaves = []string{prior.relation}
		}
		leaves = append(slices.Clone(leaves), relation)
		selects := make([]string, len(leaves))
		for i, l := range leaves {
			selects[i] = "SELECT * FROM " + l
		}
		relation = strings.Replace(v.Scan, ".scan_", ".grown_", 1)
		if _, err := s.conn.ExecContext(ctx, "CREATE VIEW "+relation+" AS "+strings.Join(selects, " UNION ALL ")); err != nil {
			return "", fmt.Errorf("%s: keep rows: %w", v.Key.Path, err)
		}
		s.unions[relation] = leaves
		pieces = sql.NullString{String: strings.Join(leaves, ","), Valid: true}
		k.Rows += g.Kept.Rows
		k.Read += g.Kept.Read
		k.Rejected += g.Kept.Rejected
	}
	// A file written while it was read: its rows are this run's, but a
	// later run must read it again, whatever its time says.
	sum, change := hs.sum, ""
	if fi, err := os.Stat(v.Key.Path); err != nil || fi.Size() != v.Size || !fi.ModTime().Equal(v.ModTime) {
		sum = ""
	} else {
		change = changeStamp(fi)
	}
	reading, err := s.reading(ctx, v.Key)
	if err != nil {
		return "", err
	}
	s.pending[key] = keptRow{relation: relation, values: []any{v.Key.Source, v.Key.Table, v.Key.Path,
		reading, v.Size, v.ModTime.UnixNano(), change, sum, s.now(), relation, scan, k.Rows, k.Read, k.Rejected, s.runID,
		k.Extendable && v.Key.Appends, pieces}}
	v.SHA256 = sum
	return relation, nil
}

// nextID is a new value of kept.ids, which names a file's tables. They are
// taken 16 at a time: a run reading the bundled sample's 26 files asks
// twice instead of 26 times; the values it leaves unused are never used.
func (s *Store) nextID(ctx context.Context) (int64, error) {
	if len(s.ids) == 0 {
		rows, err := s.conn.QueryContext(ctx, `SELECT nextval('kept.ids') AS id FROM range(16) ORDER BY id`)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return 0, err
			}
			s.ids = append(s.ids, id)
		}
		if err := rows.Err(); err != nil {
			return 0, err
		}
		if len(s.ids) == 0 {
			return 0, errors.New("kept.ids gave no value")
		}
	}
	id := s.ids[0]
	s.ids = s.ids[1:]
	return id, nil
}

// Flush records the files kept since the last Flush, and their rejects (in
// temp.load_rejects), in one transaction: a few statements for all the
// files a run reads, where one transaction per file cost 5 ms each. The
// engine flushes once its sources have run, whether they failed or not, so
// that a file read is not read again. The rows' relations are made by Keep
// already: a run killed before its Flush has its files read again by the
// next, and the relations it made, which no recorded file refers to, are
// dropped after the next successful run (Collect).
func (s *Store) Flush(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	keys := slices.SortedFunc(maps.Keys(s.pending), func(a, b [3]string) int { return slices.Compare(a[:], b[:]) })
	// Every value is bound, names and paths included, as kept.files' rows
	// are: the file keys the rejects and the DELETE match are those rows'.
	var keyArgs, rejectArgs, rowArgs []any
	for _, key := range keys {
		kept := s.pending[key]
		keyArgs = append(keyArgs, key[0], key[1], key[2])
		rejectArgs = append(rejectArgs, key[0], key[1], key[2], kept.relation)
		rowArgs = append(rowArgs, kept.values...)
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{"BEGIN TRANSACTION", nil},
		{`INSERT INTO kept.rejects SELECT f.relation, r.* FROM temp.load_rejects r
			JOIN (VALUES ` + valueRows(len(keys), 4, "::VARCHAR") + `) f(source, target_table, file, relation) USING (source, target_table, file)`, rejectArgs},
		// A DELETE and an INSERT: DuckDB's INSERT OR REPLACE costs twice as much.
		{`DELETE FROM kept.files USING (VALUES ` + valueRows(len(keys), 3, "::VARCHAR") + `) f(source, target_table, path)
			WHERE kept.files.source = f.source AND kept.files.target_table = f.target_table AND kept.files.path = f.path`, keyArgs},
		{`INSERT INTO kept.files VALUES ` + valueRows(len(keys), len(rowArgs)/len(keys), ""), rowArgs},
		{"COMMIT", nil},
	}
	for _, st := range stmts {
		if _, err := s.conn.ExecContext(ctx, st.q, st.args...); err != nil {
			s.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return fmt.Errorf("file cache: record %d files: %w", len(keys), err)
		}
	}
	clear(s.pending)
	return nil
}

// valueRows is n rows of width placeholders each, for a VALUES list, each
// placeholder followed by cast ("::VARCHAR", or "").
func valueRows(n, width int, cast string) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?"+cast+", ", width), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}
