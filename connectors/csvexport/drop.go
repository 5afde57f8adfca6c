package csvexport

import (
	"bufio"
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/uptake-dev/uptake/connectors"
)

// dropBad leaves out the records the structural pass found bad: it copies
// path without them into a temporary file, and keeps one reject for each
// physical line they took, with that line as written. It returns the file
// DuckDB is to read (path itself when nothing is bad) and how many rejects
// it kept.
func (s *Source) dropBad(ctx context.Context, rows connectors.RowWriter, path string, sc *scanned, ds dataset, bad []badRecord) (string, int64, error) {
	if len(bad) == 0 {
		return path, 0, nil
	}
	in, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer in.Close()
	keep := &rejectWriter{ctx: ctx, out: rows, source: s.name, target: ds.target, file: sc.file}
	out, err := writeTemp(s.tmpDir, "uptake-kept-*.csv", func(w io.Writer) error { return copyWithout(in, w, bad, keep.add) })
	if err == nil {
		if err = keep.flush(); err != nil {
			os.Remove(out)
		}
	}
	if err != nil {
		return "", 0, fmt.Errorf("leave bad records out: %w", err)
	}
	return out, keep.n, nil
}

// copyWithout copies in to out without the byte ranges of bad, calling
// reject for each physical line of them.
func copyWithout(in io.Reader, out io.Writer, bad []badRecord, reject func(b badRecord, i int64, body []byte) error) error {
	r := bufio.NewReaderSize(in, 1<<20)
	w := bufio.NewWriterSize(out, 1<<20)
	var pos int64
	for _, b := range bad {
		if _, err := io.CopyN(w, r, b.start-pos); err != nil {
			return err
		}
		lr := newLineReader(io.LimitReader(r, b.end-b.start), 64<<10)
		for i := int64(0); ; i++ {
			line, _, err := lr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			body, _ := splitLineEnd(line)
			if err := reject(b, i, body); err != nil {
				return err
			}
		}
		pos = b.end
	}
	if _, err := io.Copy(w, r); err != nil {
		return err
	}
	return w.Flush()
}

// rejectWriter appends rejects to load_rejects in batches.
type rejectWriter struct {
	ctx                  context.Context
	out                  connectors.RowWriter
	source, target, file string
	rows                 [][]driver.Value
	n                    int64
}

func (w *rejectWriter) add(b badRecord, i int64, body []byte) error {
	w.rows = append(w.rows, []driver.Value{w.source, w.target, w.file, b.line + i, b.column, b.reasonAt(i), rawLine(body)})
	w.n++
	if len(w.rows) >= 10000 {
		return w.flush()
	}
	return nil
}

func (w *rejectWriter) flush() error {
	err := w.out.Append(w.ctx, "load_rejects", w.rows)
	w.rows = w.rows[:0]
	return err
}

// maxRawChars is how much of a rejected line its raw_line keeps.
const maxRawChars = 1000

// rawLine is a rejected line for raw_line: control characters written
// <U+0000>, and cut after maxRawChars characters.
func rawLine(body []byte) string {
	var sb strings.Builder
	n := 0
	for len(body) > 0 {
		c, size := utf8.DecodeRune(body)
		body = body[size:]
		n++
		switch {
		case n > maxRawChars:
			continue
		case isControl(c):
			fmt.Fprintf(&sb, "<U+%04X>", c)
		case c == utf8.RuneError && size == 1:
			sb.WriteRune(utf8.RuneError)
		default:
			sb.WriteRune(c)
		}
	}
	if n > maxRawChars {
		fmt.Fprintf(&sb, "… (%d characters in all)", n)
	}
	return sb.String()
}
