package csvexport

import (
	"fmt"
	"unicode/utf8"
)

// Where the record parser is within a field. Spaces before an opening quote
// and after a closing one are ignored, as DuckDB does.
const (
	atStart    = iota // before the field's first character (spaces skipped)
	inPlain           // in an unquoted value: a quote there is a character
	inQuotes          // in a quoted value: delimiters and line ends are characters
	afterQuote        // a quote in a quoted value: closing, or the first of two
	afterClose        // after the closing quote (and spaces)
)

// record parses one record that the fast path could not take, byte by byte
// and line by line, noting the first problem of its structure (quotes) and of
// its content (control characters, length).
type record struct {
	l           *linter
	line, start int64 // first physical line, byte offset
	state       int
	field       int // current field, from 0
	chars       int // characters of the current value so far
	spaces      int // spaces at the start of the field, not yet counted
	quoteLine   int64
	quoteField  int
	structure   *flaw
	content     *flaw
	date        []byte // the current value's bytes, in a date column (linter.dates)
}

// flaw is a problem found in one field.
type flaw struct {
	field  int
	reason string
	// open says the quote of quoteField opened on quoteLine is never closed.
	open bool
}

// feed parses one line's bytes (without its line end).
func (r *record) feed(body []byte, line int64) {
	d := r.l.delim
	for i := 0; i < len(body); i++ {
		b := body[i]
		switch r.state {
		case atStart:
			switch b {
			case ' ':
				r.spaces++
				continue
			case '"':
				r.state, r.spaces, r.quoteLine, r.quoteField = inQuotes, 0, line, r.field
				continue
			case d:
				r.endField()
				continue
			}
			r.state, r.chars, r.spaces = inPlain, r.spaces, 0
		case inPlain:
			if b == d {
				r.endField()
				continue
			}
		case inQuotes:
			if b == '"' {
				r.state = afterQuote
				continue
			}
		case afterQuote:
			switch b {
			case '"': // a doubled quote: one quote character
				r.state = inQuotes
			case d:
				r.endField()
				continue
			case ' ':
				r.state = afterClose
				continue
			default:
				r.textAfterQuote(b, line)
			}
		case afterClose:
			switch b {
			case ' ':
				continue
			case d:
				r.endField()
				continue
			default:
				r.textAfterQuote(b, line)
			}
		}
		r.char(body, i)
	}
}

// char counts byte i of body as part of the current value, checking it is
// not a control character.
func (r *record) char(body []byte, i int) {
	b := body[i]
	if r.l.dateColumn(r.field) {
		r.date = append(r.date, b)
	}
	if !utf8.RuneStart(b) {
		return // the rest of a character already counted
	}
	r.chars++
	if r.content != nil {
		return
	}
	c, _ := utf8.DecodeRune(body[i:])
	if isControl(c) {
		r.content = &flaw{field: r.field, reason: fmt.Sprintf("control character %s at character %d of the value", controlName(c), r.chars)}
	}
}

// isControl tells the control characters a value may not hold: C0 (tab
// aside), DEL and C1.
func isControl(c rune) bool {
	return (c < 0x20 && c != '\t') || (c >= 0x7f && c <= 0x9f)
}

var controlNames = map[rune]string{0: "NUL", '\r': "carriage return", '\n': "line feed", 0x1b: "ESC", 0x7f: "DEL", 0x0b: "vertical tab", 0x0c: "form feed", 0x08: "backspace"}

// controlName names a control character, e.g. U+0000 (NUL).
func controlName(c rune) string {
	name, ok := controlNames[c]
	switch {
	case ok:
	case c >= 0x80:
		name = "C1 control"
	default:
		name = "C0 control"
	}
	return fmt.Sprintf("U+%04X (%s)", c, name)
}

// textAfterQuote notes text between a closing quote and the next delimiter;
// the rest of the field is read as unquoted text.
func (r *record) textAfterQuote(b byte, line int64) {
	if r.structure == nil {
		what := fmt.Sprintf("%q", rune(b))
		if !utf8.RuneStart(b) || b >= 0x80 {
			what = "text"
		}
		reason := fmt.Sprintf("%s after the closing quote of the value (a quote inside a quoted value must be doubled: \"\")", what)
		if r.quoteLine < line {
			reason = fmt.Sprintf("the quote opened on line %d closes on line %d and is followed by %s, not a delimiter (a quote inside a quoted value must be doubled: \"\")", r.quoteLine, line, what)
		}
		r.structure = &flaw{field: r.field, reason: reason}
	}
	r.state = inPlain
}

// endField closes the current value, checking its length.
func (r *record) endField() {
	n := r.chars + r.spaces
	if n > r.l.maxCell && r.content == nil {
		r.content = &flaw{field: r.field, reason: fmt.Sprintf("a value of %d characters, longer than checks.max_cell_chars (%d)", n, r.l.maxCell)}
	}
	if r.l.dateColumn(r.field) {
		if r.content == nil && !isoDate(r.date) {
			r.content = &flaw{field: r.field, reason: notADate(r.date)}
		}
		r.date = r.date[:0]
	}
	r.field++
	r.state, r.chars, r.spaces = atStart, 0, 0
}

// lineEnd handles the end of a physical line whose line end is n bytes (0 at
// the end of the file) and tells whether the record ends there.
func (r *record) lineEnd(n int) bool {
	if r.state == inQuotes && n > 0 {
		r.chars += n // a line break inside quotes is part of the value
		if r.l.dateColumn(r.field) {
			r.date = append(r.date, '\n')
		}
		return false
	}
	if r.state == inQuotes {
		r.unclosed()
		return true
	}
	r.endField()
	return true
}

// unclosed notes that the file ended inside a quoted value.
func (r *record) unclosed() {
	r.structure = &flaw{field: r.quoteField, open: true}
	r.state = inPlain
	r.endField()
}

// verdict returns what is wrong with the record that ended on line last, if
// anything: its structure first (the quotes that decide where it ends).
func (r *record) verdict(last int64) (badRecord, bool) {
	f := r.structure
	if f == nil {
		f = r.content
	}
	if f == nil {
		return badRecord{}, false
	}
	b := badRecord{line: r.line, lines: last - r.line + 1, column: r.l.label(f.field), reason: f.reason}
	if f.open {
		b.open, b.quoteLine, b.where = true, r.quoteLine, r.l.position(f.field)
	}
	return b, true
}

// reasonAt is the reason given for line line+i of a bad record.
func (b badRecord) reasonAt(i int64) string {
	if !b.open {
		return continuedReason(b.line, b.lines, i, b.reason)
	}
	last := b.line + b.lines - 1
	if b.lines == 1 {
		return fmt.Sprintf("the quote opened in column %s on line %d is never closed (the file ends on that line)", b.where, b.quoteLine)
	}
	if i == 0 {
		return fmt.Sprintf("the quote opened in column %s on line %d is never closed: lines %d to %d (%d lines) were read as one record, to the end of the file",
			b.where, b.quoteLine, b.line, last, b.lines)
	}
	return fmt.Sprintf("swallowed by the quote opened in column %s on line %d, never closed (lines %d to %d, %d lines)", b.where, b.quoteLine, b.line, last, b.lines)
}

// label is a column's name in the header, for the rejects' column.
func (l *linter) label(i int) string {
	if i < len(l.labels) {
		return l.labels[i]
	}
	return fmt.Sprintf("column %d (beyond the header)", i+1)
}

// position names a column in a message: its name and position.
func (l *linter) position(i int) string {
	if i < len(l.labels) {
		return fmt.Sprintf("%q (column %d)", l.labels[i], i+1)
	}
	return l.label(i)
}
