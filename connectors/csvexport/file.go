package csvexport

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// readerVersion changes whenever this package reads the same file into
// other rows (a new column, another rule): files kept by an earlier
// version are then read again.
// (3: a file's duplicate keys are checked before it is kept, so a kept
// file read by version 2 in a run that then failed is checked again.)
const readerVersion = "csvexport/3"

// fileRead is what came of one file: the relation of its rows in the
// contract's columns, and its counts.
type fileRead struct {
	relation             string
	rows, read, rejected int64
	kept                 bool // taken as an earlier run read it
}

// readFile reads one export file, or takes what an earlier run read of it
// when the run keeps files (Run.Files) and the file has not changed.
func (s *Source) readFile(ctx context.Context, conn *sql.Conn, run connectors.Run, ds dataset, file string, fileDate time.Time, i int) (fileRead, error) {
	id := fmt.Sprintf("%s_%s_%d", sqltext.SafeName(s.name), ds.key, i)
	var v *connectors.FileVersion
	table := ""
	if run.Files != nil {
		var err error
		v, err = run.Files.Open(ctx, connectors.FileKey{Source: s.name, Table: ds.target, Path: file, Reading: s.reading(ds, fileDate)})
		if err != nil {
			return fileRead{}, err
		}
		if k := v.Kept; k != nil {
			run.Logger.Debug("kept file", "file", file, "rows", k.Rows, "rejected", k.Rejected)
			return fileRead{relation: k.Relation, rows: k.Rows, read: k.Read, rejected: k.Rejected, kept: true}, nil
		}
		if scanInWarehouse(ds.key) {
			table = v.Scan
		} // else a connection-local scan: Keep copies its rows into a table
	}
	t0 := time.Now()
	sc, err := s.scanFile(ctx, conn, run.Rows, file, ds, id, table)
	if err != nil {
		return fileRead{}, err
	}
	if v != nil {
		// Once kept, nothing refers to the scan's connection-local tables.
		defer sc.dropTemp(context.WithoutCancel(ctx), conn)
	}
	t1 := time.Now()
	sel, semantic, err := s.contractSelect(ctx, conn, ds, sc, fileDate)
	if err != nil {
		return fileRead{}, err
	}
	r := fileRead{rows: sc.rows, read: sc.rows + semantic + sc.rejected, rejected: sc.rejected + semantic}
	// Before the rows are kept: a kept file is not checked alone again.
	if repeats, err := keyRepeats(ctx, conn, ds, sc); err != nil {
		return fileRead{}, fmt.Errorf("%s: %w", file, err)
	} else if repeats {
		if err := checkKeys(ctx, conn, ds, "("+sel+")"); err != nil {
			return fileRead{}, err
		}
	}
	run.Logger.Debug("read file", "file", file, "encoding", sc.encoding, "rows", r.rows, "rejected", r.rejected,
		"scan", t1.Sub(t0).Round(time.Millisecond).String(), "check", time.Since(t1).Round(time.Millisecond).String())
	if v == nil {
		r.relation = "csv_" + id + "_rows"
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP VIEW %s AS %s", r.relation, sel)); err != nil {
			return fileRead{}, fmt.Errorf("%s: %w", file, err)
		}
		return r, nil
	}
	r.relation, err = run.Files.Keep(ctx, v, connectors.KeepSpec{Select: sel, Materialize: materialize(ds.key, sc),
		Rows: r.rows, Read: r.read, Rejected: r.rejected})
	return r, err
}

// materialize says whether the rows of a file are kept as a table rather
// than a view over its scan: when the scan is connection-local
// (scanInWarehouse), or when the select places the rows on their lines
// through this connection's line maps (a file with quoted line breaks,
// blank lines or rejects; activity rows have no line).
func materialize(dataset string, sc *scanned) bool {
	return !sc.persistent || (dataset != "activity" && sc.lines.local())
}

// scanInWarehouse says whether a file of dataset is scanned into a table of
// the warehouse, which a view may keep. Activity rows (most rows) stay a
// view: the select reads the scan's columns as stored. Users rows too (the
// load copies them once, into the compacted users table). The other
// exports (a file a month, read by several models and checks) are scanned
// into a connection-local table, and only the copy Keep makes of their
// rows is written to disk: through a dozen views of computed columns, each
// statement that reads them costs more than the copy.
func scanInWarehouse(dataset string) bool { return dataset == "activity" || dataset == "users" }

// reading digests what shapes the rows read from a file of ds: the
// export's settings, the source-wide format, the checks, the date the file
// stands for, and this reader's version.
func (s *Source) reading(ds dataset, fileDate time.Time) string {
	b, _ := json.Marshal(struct {
		Version, Key string
		Dataset      Dataset
		Format       Format
		MaxCellChars int
		FileDate     time.Time
	}{readerVersion, ds.key, ds.cfg, s.spec.Format, s.maxCellChars, fileDate})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
