package csvexport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The structural pass (lint) reads a UTF-8 export once before DuckDB does.
// It finds the records DuckDB must not see (a quote never closed, text after
// a closing quote, a control character, a value longer than
// checks.max_cell_chars, a date that DuckDB would read only in part), and
// where DuckDB's record numbers part from the file's physical lines (a
// quoted field spanning lines, a blank line, a record left out), so that
// every reject and every row names its own line.
//
// DuckDB numbers records, not lines: the header is 1 and each record or
// blank line after it counts one, a record spanning three lines included.

// errNotUTF8 is returned by a pass asked to check the encoding when the file
// is not valid UTF-8.
var errNotUTF8 = errors.New("not valid UTF-8")

// linter holds what a structural pass needs to know of a file.
type linter struct {
	delim   byte
	maxCell int
	// labels are the header's column names, for messages.
	labels []string
	// checkUTF8 makes the pass fail with errNotUTF8 on invalid UTF-8.
	checkUTF8 bool
	// dates marks, up to the last of them, the columns of date fields read
	// without date_format, whose values must be ISO dates (isoDate).
	dates []bool
}

// lintResult is what a structural pass found.
type lintResult struct {
	// bad are the records to leave out, in file order.
	bad []badRecord
	// spans are the records whose first physical line is not the one their
	// DuckDB record number gives, given the span before (see lineAt).
	spans []recordSpan
	// blanks are the DuckDB record numbers of blank lines: DuckDB skips them
	// without a row or a reject.
	blanks []int64
	// longest is the size in bytes of the longest record kept.
	longest int64
	// multiline says a record kept spans several lines.
	multiline bool
	// spaced says a line after the header holds a character DuckDB's trim
	// removes (trimmable): only then may a value need trimming.
	spaced bool
	// records is the number of records after the header (DuckDB's count,
	// blank lines included), size the file's size in bytes.
	records, size int64
}

// recordSpan places DuckDB record rec on physical lines line to line+lines-1.
type recordSpan struct{ rec, line, lines int64 }

// badRecord is a record left out, with what is wrong with it.
type badRecord struct {
	line, lines int64 // first physical line, and how many it took
	start, end  int64 // byte range in the file, line ends included
	column      string
	reason      string
	// open says a quote is never closed: the one opened on quoteLine in
	// column where (name and position).
	open      bool
	quoteLine int64
	where     string
}

// place records that DuckDB record rec is on physical lines line.. (lines of them).
func (r *lintResult) place(rec, line, lines int64) {
	want := rec
	if n := len(r.spans); n > 0 {
		s := r.spans[n-1]
		want = s.line + (rec - s.rec) + s.lines - 1
	}
	if line != want || lines > 1 {
		r.spans = append(r.spans, recordSpan{rec, line, lines})
	}
	if lines > 1 {
		r.multiline = true
	}
}

// lintFile runs the structural pass over a file.
func (l *linter) lintFile(path string) (*lintResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return l.lint(f)
}

// special marks the bytes that send a line to the careful path: quotes,
// control characters other than tab, and any non-ASCII byte (C1 controls,
// encoding errors).
var special = func() (t [256]bool) {
	for b := 0; b < 0x20; b++ {
		t[b] = b != '\t'
	}
	t['"'], t[0x7f] = true, true
	for b := 0x80; b < 0x100; b++ {
		t[b] = true
	}
	return t
}()

// trimmable says whether a line holds a character DuckDB's trim removes: a
// space, or another Unicode space separator (category Zs: the no-break
// space U+00A0, U+2000 to U+200A, the ideographic space U+3000...), which
// only a line with a non-ASCII byte can hold (a line off the plain path).
func trimmable(line []byte) bool {
	if bytes.IndexByte(line, ' ') >= 0 {
		return true
	}
	for i := 0; i < len(line); {
		if line[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(line[i:])
		if unicode.Is(unicode.Zs, r) {
			return true
		}
		i += n
	}
	return false
}

// plain tells whether a line holds none of the special bytes, and whether
// it holds a space, eight bytes at a time (this is the pass's hot loop: most
// lines of most files are plain). spaced is only meaningful when ok.
func plain(b []byte) (ok, spaced bool) {
	var acc, sp uint64
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		acc |= specialMask(x)
		sp |= eqMask(x, ' ')
		b = b[8:]
	}
	for _, c := range b {
		if special[c] {
			return false, false
		}
		if c == ' ' {
			sp = 1
		}
	}
	return acc == 0, sp != 0
}

const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// specialMask has the high bit of each special byte of x set (non-ASCII,
// DEL, a quote, below 0x20 and not a tab), or of some byte when x is not ASCII.
func specialMask(x uint64) uint64 {
	low := ^((x | high) - 0x20*ones) & high // bytes < 0x20 (of the ASCII ones)
	del := (x + ones) & high                // 0x7f, the only ASCII byte ≥ 0x7f
	return x&high | del | low&^eqMask(x, '\t') | eqMask(x, '"')
}

// eqMask has the high bit of each byte of x equal to c set, for ASCII x.
func eqMask(x uint64, c byte) uint64 {
	t := x ^ (ones * uint64(c))
	return ^(((t & ^uint64(high)) + ^uint64(high)) | t) & high
}

// lint reads r (UTF-8) line by line. A line short enough and plain is a
// record of its own; any other goes through the record parser, which may
// read on into the following lines while a quote is open.
func (l *linter) lint(r io.Reader) (*lintResult, error) {
	lr := newLineReader(r, 1<<20)
	res := &lintResult{}
	var phys, rec int64
	var cur *record
	for {
		line, off, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		phys++
		body, term := splitLineEnd(line)
		if phys == 1 {
			body = trimBOM(body)
		}
		if cur == nil {
			if len(body) == 0 {
				rec++
				res.blanks = append(res.blanks, rec)
				res.place(rec, phys, 1)
				continue
			}
			if len(body) <= l.maxCell {
				if ok, spaced := plain(body); ok {
					if col, v, bad := l.plainDate(body); bad && phys > 1 {
						res.bad = append(res.bad, badRecord{line: phys, lines: 1, start: off, end: lr.off,
							column: l.label(col), reason: notADate(v)})
						continue
					}
					rec++
					res.place(rec, phys, 1)
					res.longest = max(res.longest, int64(len(line)))
					res.spaced = res.spaced || spaced && phys > 1
					continue
				}
			}
			cur = &record{l: l, line: phys, start: off}
		}
		res.spaced = res.spaced || phys > 1 && trimmable(body)
		if l.checkUTF8 && !utf8.Valid(body) {
			return nil, errNotUTF8
		}
		cur.feed(body, phys)
		if !cur.lineEnd(len(term)) {
			continue
		}
		if err := l.keep(res, cur, phys, lr.off, &rec); err != nil {
			return nil, err
		}
		cur = nil
	}
	if cur != nil { // a quote still open at the end of the file
		cur.unclosed()
		if err := l.keep(res, cur, phys, lr.off, &rec); err != nil {
			return nil, err
		}
	}
	res.records, res.size = max(rec-1, 0), lr.off
	return res, nil
}

// keep files a finished record: a flawed one is left out, a good one gets
// the next DuckDB record number. A header with a broken quote makes the
// file unusable (its column names are checked by readHeader).
func (l *linter) keep(res *lintResult, r *record, last, end int64, rec *int64) error {
	lines := last - r.line + 1
	if r.line == 1 {
		r.content = nil
	}
	if b, ok := r.verdict(last); ok {
		if r.line == 1 {
			return fmt.Errorf("line 1 (the header): column %q: %s", b.column, b.reasonAt(0))
		}
		b.start, b.end = r.start, end
		res.bad = append(res.bad, b)
		return nil
	}
	if r.line == 1 && lines > 1 {
		return fmt.Errorf("line 1 (the header): a quoted column name spans %d lines; a header is one line", lines)
	}
	*rec++
	res.place(*rec, r.line, lines)
	res.longest = max(res.longest, end-r.start)
	return nil
}

// splitLineEnd splits a line from its line end (\n or \r\n, or none at the
// end of the file).
func splitLineEnd(line []byte) (body, end []byte) {
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
		if n > 0 && line[n-1] == '\r' {
			n--
		}
	}
	return line[:n], line[n:]
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

// lineReader reads physical lines, their line end included, of any length,
// from a buffer it refills itself (cheaper per line than bufio.Reader).
type lineReader struct {
	r        io.Reader
	buf      []byte
	pos, end int   // unread bytes: buf[pos:end]
	off      int64 // offset of buf[pos] in the file
	eof      bool
	err      error
}

func newLineReader(r io.Reader, size int) *lineReader {
	return &lineReader{r: r, buf: make([]byte, size)}
}

// next returns the next line and its offset; io.EOF when there is none.
// The line is valid until the next call.
func (lr *lineReader) next() ([]byte, int64, error) {
	scanned := 0 // bytes of buf[pos:end] known to hold no line end
	for {
		if i := bytes.IndexByte(lr.buf[lr.pos+scanned:lr.end], '\n'); i >= 0 {
			return lr.take(scanned + i + 1), lr.off - int64(scanned+i+1), nil
		}
		scanned = lr.end - lr.pos
		if lr.eof {
			if scanned == 0 {
				return nil, lr.off, lr.err
			}
			return lr.take(scanned), lr.off - int64(scanned), nil // the last line, without a line end
		}
		lr.fill()
	}
}

// take consumes n bytes.
func (lr *lineReader) take(n int) []byte {
	line := lr.buf[lr.pos : lr.pos+n]
	lr.pos += n
	lr.off += int64(n)
	return line
}

// fill moves the unread bytes to the front, grows the buffer when they fill
// it (a long line), and reads more.
func (lr *lineReader) fill() {
	n := copy(lr.buf, lr.buf[lr.pos:lr.end])
	lr.pos, lr.end = 0, n
	if n == len(lr.buf) {
		lr.buf = append(lr.buf, make([]byte, len(lr.buf))...)
	}
	m, err := io.ReadAtLeast(lr.r, lr.buf[n:], 1)
	lr.end += m
	if err != nil {
		lr.eof = true
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			lr.err = err
		} else {
			lr.err = io.EOF
		}
	}
}

// dateColumn says whether column i is one of l.dates.
func (l *linter) dateColumn(i int) bool { return i < len(l.dates) && l.dates[i] }

// plainDate checks the date columns of a plain line (no quote: fields are
// what lies between delimiters) and returns the first value that is not an
// ISO date, with its column.
func (l *linter) plainDate(body []byte) (col int, value []byte, bad bool) {
	for i := range l.dates {
		end := bytes.IndexByte(body, l.delim)
		if end < 0 {
			end = len(body)
		}
		if l.dateColumn(i) && !isoDate(body[:end]) {
			return i, body[:end], true
		}
		if end == len(body) {
			return 0, nil, false // a short line: DuckDB rejects it
		}
		body = body[end+1:]
	}
	return 0, nil, false
}

// isoDate tells whether v, spaces around it aside, is empty (NULL) or a
// date DuckDB reads whole: a four-digit year, a month and a day of one or
// two digits, separated twice by the same "-", "/", space or backslash;
// then nothing, or a time DuckDB does not read: after "T" anything
// (2026-09-30T08:15:00Z), after spaces a time of day and anything
// (2026-09-30 08:15:00.123 Europe/Paris), or a zone alone (UTC, GMT, Z).
// DuckDB's own reading takes the leading digits it can and ignores what
// follows: "2026-09-3x" would be September 3rd, "2026-09-2 8" or a quoted
// "2026-09-2" and "8" on the next line September 2nd, and "26-09-30" the
// year 26, a row silently out of every month. Whether the day exists is
// DuckDB's to say.
func isoDate(v []byte) bool {
	if len(v) == 10 && v[4] == '-' && v[7] == '-' && v[0]-'0' < 10 && v[1]-'0' < 10 && v[2]-'0' < 10 && v[3]-'0' < 10 &&
		v[5]-'0' < 10 && v[6]-'0' < 10 && v[8]-'0' < 10 && v[9]-'0' < 10 {
		return true // the usual case
	}
	v = bytes.TrimFunc(v, unicode.IsSpace)
	if len(v) == 0 {
		return true
	}
	s := scanner(v)
	if !s.digits(4, 4) || len(s) == 0 {
		return false
	}
	sep := s[0]
	if sep != '-' && sep != '/' && sep != ' ' && sep != '\\' {
		return false
	}
	if !s.byte(sep) || !s.digits(1, 2) || !s.byte(sep) || !s.digits(1, 2) {
		return false
	}
	switch {
	case s.end(), s.byte('T'), s.byte('t'):
		return true
	case !s.byte(' ') && !s.byte('\t'):
		return false
	}
	for s.byte(' ') || s.byte('\t') {
	}
	if clock := s; clock.digits(1, 2) && clock.byte(':') {
		return true
	}
	zone := strings.ToUpper(string(s))
	return zone == "UTC" || zone == "GMT" || zone == "Z"
}

// scanner reads a value from its start; each method consumes what it
// matches and tells whether it did.
type scanner []byte

func (s *scanner) end() bool { return len(*s) == 0 }

func (s *scanner) byte(c byte) bool {
	if len(*s) > 0 && (*s)[0] == c {
		*s = (*s)[1:]
		return true
	}
	return false
}

// digits consumes at least min and at most max digits.
func (s *scanner) digits(min, max int) bool {
	n := 0
	for n < max && n < len(*s) && (*s)[n] >= '0' && (*s)[n] <= '9' {
		n++
	}
	if n < min {
		return false
	}
	*s = (*s)[n:]
	return true
}

// notADate is the reason a value that is not a date is rejected, in the
// words of DuckDB's own rejects; a long value is cut.
func notADate(v []byte) string {
	v = bytes.TrimFunc(v, unicode.IsSpace)
	if utf8.RuneCount(v) > 40 {
		r := []rune(string(v))
		v = []byte(string(r[:40]) + "…")
	}
	return fmt.Sprintf("%q is not a date", v)
}
