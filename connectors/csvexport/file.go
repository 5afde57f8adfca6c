package csvexport

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// readerVersion changes whenever this package reads the same file into
// other rows (a new column, another rule): files kept by an earlier
// version are then read again.
// (3: a file's duplicate keys are checked before it is kept, so a kept
// file read by version 2 in a run that then failed is checked again.
// 4: a file whose only spaces are Unicode ones, such as U+00A0, has its
// text trimmed, as DuckDB's trim removes them too.
// 5: without date_format, a date column's value must be a date DuckDB
// reads whole (isoDate): DuckDB took "2026-09-3x" for September 3rd.)
const readerVersion = "csvexport/5"

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
		v, err = run.Files.Open(ctx, connectors.FileKey{Source: s.name, Table: ds.target, Path: file, Reading: s.reading(ds, fileDate),
			Appends: appends(ds.key)})
		if err != nil {
			return fileRead{}, err
		}
		if k := v.Kept; k != nil {
			run.Logger.Debug("kept file", "file", file, "rows", k.Rows, "rejected", k.Rejected)
			return fileRead{relation: k.Relation, rows: k.Rows, read: k.Read, rejected: k.Rejected, kept: true}, nil
		}
		if v.Grown != nil {
			r, ok, err := s.readGrowth(ctx, conn, run, ds, file, fileDate, id, v)
			if err != nil || ok {
				return r, err
			}
			v.Grown = nil // read whole, below
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
		Rows: r.rows, Read: r.read, Rejected: r.rejected, Extendable: appends(ds.key) && r.rejected == 0 && utf8Encoding(sc.encoding)})
	return r, err
}

// appends says whether the records of a dataset's files are read each on
// its own, so that a kept file that grew may be read from where it ended:
// activity, which a platform may export as the month's file, rewritten
// every night with one more day. The other exports' keys are checked
// across a file's rows.
func appends(dataset string) bool { return dataset == "activity" }

// utf8Encoding says whether a file read in encoding reads the same when
// its lines are read alone: UTF-8, with or without its BOM (the copy of the
// header takes it along). A file decoded otherwise may have been so because
// of a line the new lines do not have.
func utf8Encoding(encoding string) bool { return encoding == "utf-8" || encoding == "utf-8-bom" }

// readGrowth reads only the lines a kept file gained (v.Grown), as a file of
// their own after a copy of its header line, and keeps them with the kept
// version's rows. It returns false, leaving nothing behind, when they are not
// read as the whole file would read them: when one of them is rejected (a
// reject must name its line in the whole file, and a quote left open may
// take in the lines after it), when they are not UTF-8, or when they hold
// no record. The whole file is then read again.
func (s *Source) readGrowth(ctx context.Context, conn *sql.Conn, run connectors.Run, ds dataset, file string, fileDate time.Time, id string, v *connectors.FileVersion) (fileRead, bool, error) {
	g := v.Grown
	t0 := time.Now()
	// Whatever fails here, the whole file read next says it in its own
	// words and lines; the copy's rejects are taken back.
	tail := ""
	giveUp := func() (fileRead, bool, error) {
		if err := ctx.Err(); err != nil {
			return fileRead{}, false, err
		}
		if _, err := conn.ExecContext(ctx, "DELETE FROM load_rejects WHERE file = ?", tail); err != nil {
			return fileRead{}, false, fmt.Errorf("%s: %w", file, err)
		}
		if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+v.Scan); err != nil {
			return fileRead{}, false, fmt.Errorf("%s: %w", file, err)
		}
		run.Logger.Debug("grown file read whole", "file", file)
		return fileRead{}, false, nil
	}
	tail, err := s.copyGrowth(file, g.Offset)
	if err != nil {
		return giveUp()
	}
	defer os.Remove(tail)
	sc, err := s.scanFile(ctx, conn, run.Rows, tail, ds, id+"_grown", v.Scan)
	if err != nil {
		return giveUp()
	}
	defer sc.dropTemp(context.WithoutCancel(ctx), conn)
	if sc.rejected > 0 || !utf8Encoding(sc.encoding) {
		return giveUp()
	}
	sel, semantic, err := s.contractSelect(ctx, conn, ds, sc, fileDate)
	if err != nil || semantic > 0 {
		return giveUp()
	}
	run.Logger.Debug("read file", "file", file, "encoding", sc.encoding, "rows", sc.rows, "rejected", 0,
		"grown_from_bytes", g.Offset, "scan", time.Since(t0).Round(time.Millisecond).String())
	relation, err := run.Files.Keep(ctx, v, connectors.KeepSpec{Select: sel, Materialize: materialize(ds.key, sc),
		Rows: sc.rows, Read: sc.rows, Extendable: true})
	if err != nil {
		return fileRead{}, false, err
	}
	k := g.Kept
	return fileRead{relation: relation, rows: k.Rows + sc.rows, read: k.Read + sc.rows, rejected: k.Rejected}, true, nil
}

// copyGrowth copies a file's header line and its bytes from offset on (the
// lines a kept version did not have) into a temporary file.
func (s *Source) copyGrowth(file string, offset int64) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	header, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil || int64(len(header)) > offset {
		return "", fmt.Errorf("%s: the header line changed as the file was read", file)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	tail, err := writeTemp(s.tmpDir, "uptake-grown-*.csv", func(tmp io.Writer) error {
		if _, err := tmp.Write(header); err != nil {
			return err
		}
		_, err := io.Copy(tmp, f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("%s: copy the new lines: %w", file, err)
	}
	return tail, nil
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
