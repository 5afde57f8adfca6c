package csvexport

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// scanned is one file read by DuckDB into a connection-local table whose
// columns are named after the dataset's fields (absent optional fields are
// NULL), plus the rejects DuckDB itself found (wrong column count, numbers or
// dates it could not read) and where its records lie in the file.
type scanned struct {
	file       string            // the original file, for messages and rejects
	table      string            // table holding the accepted rows
	persistent bool              // table is in the warehouse, not connection-local
	rejects    string            // temp table of DuckDB's rejects for this file
	headers    map[string]string // field → header as written in the file
	present    map[string]bool   // fields found in the header
	rows       int64             // rows accepted by DuckDB
	rejected   int64             // physical lines rejected (by the structural pass and DuckDB)
	encoding   string
	lines      lineMap
}

// fileHeader is what the header line of a file says.
type fileHeader struct {
	delim  string
	names  []string      // as written
	labels []string      // trimmed, "unnamed column N" when empty
	colOf  map[int]field // position → field read from it
}

// scanFile reads one export file with DuckDB's CSV reader, after the
// structural pass. Errors that make the whole file unusable (unreadable,
// empty, header only, missing required column) are returned; row-level
// problems are left in load_rejects.
// The rows go to table, a persistent table, when one is given; else to a
// temp table named after id.
func (s *Source) scanFile(ctx context.Context, conn *sql.Conn, w connectors.RowWriter, file string, ds dataset, id, table string) (*scanned, error) {
	p, h, lint, err := s.readStructure(file, ds)
	if err != nil {
		return nil, err
	}
	defer p.cleanup()
	sc := &scanned{file: file, headers: map[string]string{}, present: map[string]bool{}, encoding: p.encoding,
		table: table, persistent: table != "", rejects: "csv_" + id + "_rejects",
		lines: lineMap{spans: "csv_" + id + "_spans", skipped: "csv_" + id + "_skipped"}}
	if sc.table == "" {
		sc.table = "csv_" + id
	}
	for i, f := range h.colOf {
		sc.present[f.name] = true
		sc.headers[f.name] = h.labels[i]
	}
	path, dropped, err := s.dropBad(ctx, w, p.path, sc, ds, lint.bad)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if path != p.path {
		defer os.Remove(path)
	}
	if _, err := conn.ExecContext(ctx, s.readQuery(sc, ds, h, path, lint)); err != nil {
		return nil, fmt.Errorf("%s: read: %w", file, err)
	}
	// The rows DuckDB accepted and the records it rejected, in one query:
	// most files have no reject, and then no line map of rejects to make
	// nor rejects to keep.
	var duckRejects int64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT (SELECT count(*) FROM %s), (SELECT count(*) FROM %s)", sc.table, sc.rejects)).
		Scan(&sc.rows, &duckRejects); err != nil {
		return nil, fmt.Errorf("%s: count rows: %w", file, err)
	}
	if err := sc.lines.load(ctx, conn, w, sc.rejects, duckRejects > 0, lint); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var kept int64
	if duckRejects > 0 {
		if kept, err = s.keepDuckDBRejects(ctx, conn, sc, ds, h); err != nil {
			return nil, fmt.Errorf("%s: keep rejects: %w", file, err)
		}
	}
	sc.rejected = kept + dropped
	if sc.rows+sc.rejected == 0 {
		return nil, fmt.Errorf("%s: the file has a header but no data rows", file)
	}
	return sc, nil
}

// readStructure prepares a file (its encoding), reads its header and runs
// the structural pass. A file whose first line is UTF-8 but not the rest is
// read again with the fallback encoding.
func (s *Source) readStructure(file string, ds dataset) (*prepared, *fileHeader, *lintResult, error) {
	format := ds.cfg.resolve(s.spec.Format)
	for _, fallback := range []bool{false, true} {
		p, err := prepare(file, format.Encoding, format.FallbackEncoding, s.tmpDir, fallback)
		if err != nil {
			if errors.Is(err, errEmpty) {
				return nil, nil, nil, fmt.Errorf("%s: the file is empty (expected a header line: %s)", file, headerList(ds.fields, ds.cfg))
			}
			return nil, nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		h, err := readHeader(file, p.header, format, ds)
		if err != nil {
			p.cleanup()
			return nil, nil, nil, err
		}
		l := &linter{delim: h.delim[0], maxCell: s.maxCellChars, labels: h.labels, checkUTF8: p.tentative}
		if format.DateFormat == "" { // with one, DuckDB reads a date whole or rejects it
			l.dates = dateColumns(h)
		}
		res, err := l.lintFile(p.path)
		if errors.Is(err, errNotUTF8) && !fallback {
			p.cleanup()
			continue
		}
		if err != nil {
			p.cleanup()
			return nil, nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		return p, h, res, nil
	}
	return nil, nil, nil, fmt.Errorf("%s: not valid UTF-8 once decoded", file) // the fallback's pass does not check
}

// readHeader parses the header line and finds the dataset's fields in it.
func readHeader(file, line string, format Format, ds dataset) (*fileHeader, error) {
	delim := sniffDelimiter(line)
	if format.Delimiter != "" {
		delim, _ = delimiterOf(format.Delimiter)
	}
	r := csv.NewReader(strings.NewReader(line))
	r.Comma = rune(delim[0])
	r.LazyQuotes = true
	names, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: cannot read the header line: %w", file, err)
	}
	h := &fileHeader{delim: delim, names: names, colOf: map[int]field{}}
	index := map[string]int{}
	for i, name := range names {
		if err := headerControl(file, i, name); err != nil {
			return nil, err
		}
		label := strings.TrimSpace(name)
		if label == "" {
			label = fmt.Sprintf("unnamed column %d", i+1)
		}
		h.labels = append(h.labels, label)
		key := strings.ToLower(strings.TrimSpace(name))
		if key == "" {
			continue // unnamed columns (a trailing delimiter, as Excel writes) are ignored
		}
		if j, dup := index[key]; dup {
			return nil, fmt.Errorf("%s:1: column %q appears twice (columns %d and %d)", file, strings.TrimSpace(name), j+1, i+1)
		}
		index[key] = i
	}
	var missing []string
	for _, f := range ds.fields {
		want := f.header
		if hd, ok := ds.cfg.Columns[f.name]; ok {
			want = hd
		}
		if f.kind == "month" && ds.cfg.Month != "column" {
			continue
		}
		i, ok := index[strings.ToLower(strings.TrimSpace(want))]
		if !ok {
			if f.required || (f.kind == "month") {
				missing = append(missing, fmt.Sprintf("%q", want))
			}
			continue
		}
		h.colOf[i] = f
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s:1: missing required column %s (the header has: %s; map other names under columns: in the config)",
			file, strings.Join(missing, ", "), strings.Join(trimAll(names), ", "))
	}
	return h, nil
}

// headerControl fails on a control character in a column name.
func headerControl(file string, i int, name string) error {
	for _, c := range name {
		if !isControl(c) {
			continue
		}
		hint := ""
		if c == '\r' {
			hint = " (lines ended by a carriage return alone, as in very old Mac files, are not read: save the file with LF or CRLF line ends)"
		}
		return fmt.Errorf("%s:1: column %d of the header (%q) holds the control character %s%s", file, i+1, name, controlName(c), hint)
	}
	return nil
}

// dateColumns marks the header's date columns, up to the last of them.
func dateColumns(h *fileHeader) []bool {
	var dates []bool
	for i, f := range h.colOf {
		if f.kind != "date" {
			continue
		}
		if i >= len(dates) {
			dates = append(dates, make([]bool, i+1-len(dates))...)
		}
		dates[i] = true
	}
	return dates
}

// readQuery is the statement that reads a file (the original, or a copy
// without the records the structural pass left out) into sc.table.
func (s *Source) readQuery(sc *scanned, ds dataset, h *fileHeader, path string, lint *lintResult) string {
	format := ds.cfg.resolve(s.spec.Format)
	var cols, selects []string
	for i := range h.names {
		typ := "VARCHAR"
		if f, ok := h.colOf[i]; ok {
			switch f.kind {
			case "count":
				typ = "DOUBLE"
			case "amount":
				typ = amountType
			case "date":
				typ = "DATE"
			}
			col := fmt.Sprintf("c%d", i)
			if f.kind == "text" && lint.spaced {
				// Trimmed, and empty as NULL, once as the file is read: the
				// rows are kept so, and read as they are stored (a string
				// made anew at each read costs the models memory). In a file
				// without a space, DuckDB's NULL for an empty field (quoted
				// or not) is all of it, and the trim would cost a tenth of
				// the read.
				col = fmt.Sprintf("nullif(trim(c%d), '')", i)
			}
			selects = append(selects, fmt.Sprintf("%s AS %s", col, sqltext.Ident(f.name)))
		}
		cols = append(cols, fmt.Sprintf("'c%d': '%s'", i, typ))
	}
	for _, f := range ds.fields {
		if !sc.present[f.name] {
			selects = append(selects, fmt.Sprintf("NULL::%s AS %s", nullType(f.kind), sqltext.Ident(f.name)))
		}
	}
	opts := []string{
		"header = true", "auto_detect = false", "quote = '\"'", "escape = '\"'",
		"delim = " + sqltext.Quote(h.delim),
		"columns = {" + strings.Join(cols, ", ") + "}",
		"store_rejects = true",
		"rejects_table = " + sqltext.Quote(sc.rejects),
		"rejects_scan = " + sqltext.Quote(sc.rejects+"_scan"),
		"decimal_separator = " + sqltext.Quote(format.Decimal),
	}
	if format.DateFormat != "" {
		opts = append(opts, "dateformat = "+sqltext.Quote(format.DateFormat))
	}
	if strings.TrimSpace(h.names[len(h.names)-1]) == "" {
		// A header ending with a delimiter (as Excel writes): rows may or may
		// not carry the same trailing empty field.
		opts = append(opts, "null_padding = true")
		if lint.multiline {
			opts = append(opts, "parallel = false") // DuckDB pads in parallel only without quoted line breaks
		}
	}
	if lint.longest >= duckdbMaxLineSize {
		opts = append(opts, fmt.Sprintf("max_line_size = %d", lint.longest+1024))
	} else if b := scanBuffer(lint.size, lint.records); sc.persistent && b > 0 {
		opts = append(opts, fmt.Sprintf("buffer_size = %d", b))
	}
	kind := "TEMP TABLE"
	if sc.persistent {
		kind = "TABLE"
	}
	return fmt.Sprintf("CREATE OR REPLACE %s %s AS SELECT %s FROM read_csv(%s, %s)",
		kind, sc.table, strings.Join(selects, ", "), sqltext.Quote(path), strings.Join(opts, ", "))
}

// dropTemp drops the connection-local tables of a scan (its line maps,
// DuckDB's rejects, its rows when read into one): a run that keeps files
// holds one file's at a time.
func (sc *scanned) dropTemp(ctx context.Context, conn *sql.Conn) {
	tables := []string{sc.rejects, sc.rejects + "_scan", sc.lines.spans, sc.lines.skipped}
	if !sc.persistent {
		tables = append(tables, sc.table)
	}
	for _, t := range tables {
		conn.ExecContext(ctx, "DROP TABLE IF EXISTS temp."+t)
	}
}

// duckdbMaxLineSize is DuckDB's default limit on the size of a record.
const duckdbMaxLineSize = 2_000_000

// Rows read into the warehouse in file order (rowid is the record's place)
// reach the table batch by batch, a batch per read buffer: full row groups,
// then the batch's rest in a row group of its own (a batch smaller than a
// row group is packed with the next, which costs a second compression:
// with DuckDB's default buffers, about 8 MB, 1 M users of 78 bytes a record
// took 1.1 to 1.3 s to read, against 0.65 to 0.8 s with larger ones).
// DuckDB's checkpoint merges neighbouring row groups when up to three of
// them fit in fewer, at the next process's first checkpoint too: with
// buffers of two row groups, rests of 6,000 to 13,000 users were merged
// the night after a users export (0.3 to 0.4 s). Nothing is merged when
// each batch holds three full row groups, whatever its rest, or one or two
// and a rest of more than half a row group.
const (
	duckdbDefaultBuffer = 8 << 20
	duckdbRowGroupRows  = 122_880
	maxScanBuffer       = 64 << 20
)

// scanBuffer is the read buffer size for a file of size bytes holding
// records records, written into the warehouse as it is read. DuckDB's
// default (0) when the file fits in a default buffer, or when a default
// buffer of its average records leaves nothing to merge: it holds three row
// groups or more, or one or two and more than half of one (activity
// records of 41 bytes: 1.66; larger buffers read them 25 % slower). Else
// room for three row groups and three quarters of one, so that a stretch
// of records up to a fifth longer than the average still fills three; or
// DuckDB's default again past 64 MB (records of more than 145 bytes, of
// which a default buffer holds less than half a row group: its batches
// are packed).
func scanBuffer(size, records int64) int64 {
	if records == 0 || size <= duckdbDefaultBuffer {
		return 0
	}
	perRowGroup := size * duckdbRowGroupRows / records
	if quarters := duckdbDefaultBuffer * 4 / perRowGroup; quarters >= 12 || quarters >= 4 && quarters%4 >= 2 {
		return 0
	}
	if buffer := perRowGroup * 15 / 4; buffer <= maxScanBuffer {
		return buffer
	}
	return 0
}

// keepDuckDBRejects copies DuckDB's rejects of a file into load_rejects: one
// row per physical line, a record's several errors in one reason, columns
// named as the file does. It returns how many rows it wrote.
func (s *Source) keepDuckDBRejects(ctx context.Context, conn *sql.Conn, sc *scanned, ds dataset, h *fileHeader) (int64, error) {
	var names []string
	for i, label := range h.labels {
		names = append(names, fmt.Sprintf("('c%d', %s)", i, sqltext.Quote(label)))
	}
	res, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO load_rejects
		WITH messages AS (
			SELECT r.line, r.column_idx AS ord, n.header AS col, lower(r.error_type) AS kind,
				replace(replace(replace(replace(CASE WHEN n.header IS NULL THEN r.error_message
					ELSE replace(r.error_message, '"' || r.column_name || '"', '"' || n.header || '"') END,
					'to ''DOUBLE''', 'to a number'), 'to ''DECIMAL''', 'to a number'), 'to ''DATE''', 'to a date'), 'to ''VARCHAR''', 'to text') AS message,
				r.csv_line
			FROM %[4]s r LEFT JOIN (VALUES %[5]s) n(col, header) ON n.col = r.column_name
			WHERE r.error_type <> 'MISSING COLUMNS'),
		errs AS (
			-- a value of the wrong type says so in the words of the other
			-- rejects ("x" is not a number); DuckDB's own words otherwise
			SELECT line, ord, col,
				CASE WHEN kind = 'cast' AND regexp_matches(message, '^Error when converting column "[^"]*"\. Could not convert string ".*" to (a number|a date)$')
					THEN regexp_replace(message, '^.*Could not convert string (".*") to (a number|a date)$', '\1 is not \2')
					ELSE kind || ': ' || message END AS reason,
				csv_line
			FROM messages
			UNION ALL
			-- a short line: one error naming every column it lacks
			SELECT r.line, min(r.column_idx), NULL,
				'missing columns: ' || string_agg(coalesce(n.header, r.column_name), ', ' ORDER BY r.column_idx) || ' (' || any_value(r.error_message) || ')',
				any_value(r.csv_line)
			FROM %[4]s r LEFT JOIN (VALUES %[5]s) n(col, header) ON n.col = r.column_name
			WHERE r.error_type = 'MISSING COLUMNS'
			GROUP BY r.line),
		recs AS (
			-- one reject per record, whatever the number of its errors
			SELECT line AS rec, arg_min(col, ord) FILTER (WHERE col IS NOT NULL) AS col,
				string_agg(reason, '; ' ORDER BY ord) AS reason, trim(any_value(csv_line), chr(10) || chr(13)) AS csv_line
			FROM errs GROUP BY line),
		placed AS (
			SELECT s.*, %[6]s AS first_line, %[7]s AS lines FROM recs s %[8]s)
		SELECT %[1]s, %[2]s, %[3]s, first_line + i, col, %[9]s,
			CASE WHEN lines = 1 THEN csv_line ELSE rtrim(string_split(csv_line, chr(10))[i + 1], chr(13)) END
		FROM (SELECT *, unnest(range(lines)) AS i FROM placed) ORDER BY first_line + i`,
		sqltext.Quote(s.name), sqltext.Quote(ds.target), sqltext.Quote(sc.file), sc.rejects, strings.Join(names, ", "),
		sc.lines.line("s.rec"), sc.lines.count("s.rec"), sc.lines.join("s.rec"),
		continued("first_line", "lines", "i", "reason")))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// amountType is how amounts are read: exact, and wide enough to tell a value
// too large for the contract's DECIMAL(18, 2) from one that fits.
const amountType = "DECIMAL(38, 10)"

func nullType(kind string) string {
	switch kind {
	case "count":
		return "DOUBLE"
	case "amount":
		return amountType
	case "date":
		return "DATE"
	}
	return "VARCHAR"
}

func headerList(fields []field, d Dataset) string {
	var s []string
	for _, f := range fields {
		if f.kind == "month" && d.Month != "column" {
			continue
		}
		h := f.header
		if c, ok := d.Columns[f.name]; ok {
			h = c
		}
		s = append(s, h)
	}
	return strings.Join(s, ", ")
}

func trimAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", strings.TrimSpace(s))
	}
	return out
}
