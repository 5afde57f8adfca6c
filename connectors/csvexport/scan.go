package csvexport

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"

	"github.com/uptake-dev/uptake/etl/warehouse"
)

// scanned is one file read by DuckDB into a connection-local table whose
// columns are named after the dataset's fields (absent optional fields are
// NULL), plus the rejects DuckDB itself found (wrong column count, bad
// quoting, numbers or dates it could not read).
type scanned struct {
	file     string            // the original file, for messages and rejects
	table    string            // temp table holding the accepted rows
	rejects  string            // temp table of DuckDB's rejects for this file
	headers  map[string]string // field → header as written in the file
	present  map[string]bool   // fields found in the header
	rows     int64             // rows accepted by DuckDB
	rejected int64             // rows rejected by DuckDB
	encoding string
}

// lineOf returns a SQL expression for the file line of row alias s, given
// DuckDB's rejected lines: the k-th accepted row (rowid k) is line
// k + 2 + the number of rejected lines before it. Exact unless a quoted
// field spans lines or blank lines precede the row.
// alias must expose the scan table's rowid as rid. Without rejects the
// join is not needed (and is skipped: it sorts every row).
func (sc *scanned) lineJoin(alias string) string {
	if sc.rejected == 0 {
		return ""
	}
	return fmt.Sprintf(`ASOF LEFT JOIN (
		SELECT thr, max(shift) AS shift FROM (
			SELECT line - row_number() OVER (ORDER BY line) - 1 AS thr, row_number() OVER (ORDER BY line) AS shift
			FROM (SELECT DISTINCT line FROM %s))
		GROUP BY thr) __t ON %s.rid >= __t.thr`, sc.rejects, alias)
}

func (sc *scanned) lineExpr(alias string) string {
	if sc.rejected == 0 {
		return fmt.Sprintf("(%s.rid + 2)", alias)
	}
	return fmt.Sprintf("(%s.rid + 2 + coalesce(__t.shift, 0))", alias)
}

// scanFile reads one export file with DuckDB's CSV reader. Errors that make
// the whole file unusable (unreadable, empty, header only, missing required
// column) are returned; row-level problems are left in the rejects table.
func (s *Source) scanFile(ctx context.Context, conn *sql.Conn, file string, ds dataset, id string) (*scanned, error) {
	fields, d := ds.fields, ds.cfg
	format := d.resolve(s.spec.Format)
	p, err := prepare(file, format.Encoding, format.FallbackEncoding, s.tmpDir)
	if err != nil {
		if errors.Is(err, errEmpty) {
			return nil, fmt.Errorf("%s: the file is empty (expected a header line: %s)", file, headerList(fields, d))
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	defer p.cleanup()
	delim := sniffDelimiter(p.header)
	if format.Delimiter != "" {
		delim, _ = delimiterOf(format.Delimiter)
	}
	r := csv.NewReader(strings.NewReader(p.header))
	r.Comma = rune(delim[0])
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: cannot read the header line: %w", file, err)
	}
	sc := &scanned{file: file, headers: map[string]string{}, present: map[string]bool{}, encoding: p.encoding,
		table: "csv_" + id, rejects: "csv_" + id + "_rejects"}
	index := map[string]int{}
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		if key == "" {
			continue // unnamed columns (a trailing delimiter, as Excel writes) are ignored
		}
		if j, dup := index[key]; dup {
			return nil, fmt.Errorf("%s:1: column %q appears twice (columns %d and %d)", file, strings.TrimSpace(h), j+1, i+1)
		}
		index[key] = i
	}
	colOf := map[int]field{}
	var missing []string
	for _, f := range fields {
		want := f.header
		if h, ok := d.Columns[f.name]; ok {
			want = h
		}
		if f.kind == "month" && d.Month != "column" {
			continue
		}
		i, ok := index[strings.ToLower(strings.TrimSpace(want))]
		if !ok {
			if f.required || (f.kind == "month") {
				missing = append(missing, fmt.Sprintf("%q", want))
			}
			continue
		}
		colOf[i] = f
		sc.present[f.name] = true
		sc.headers[f.name] = strings.TrimSpace(header[i])
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s:1: missing required column %s (the header has: %s; map other names under columns: in the config)",
			file, strings.Join(missing, ", "), strings.Join(trimAll(header), ", "))
	}

	var cols, selects, names []string
	for i := range header {
		typ := "VARCHAR"
		if f, ok := colOf[i]; ok {
			switch f.kind {
			case "count":
				typ = "DOUBLE"
			case "amount":
				typ = amountType
			case "date":
				typ = "DATE"
			}
			selects = append(selects, fmt.Sprintf("c%d AS %s", i, warehouse.Ident(f.name)))
		}
		label := strings.TrimSpace(header[i])
		if label == "" {
			label = fmt.Sprintf("unnamed column %d", i+1)
		}
		names = append(names, fmt.Sprintf("('c%d', %s)", i, warehouse.Quote(label)))
		cols = append(cols, fmt.Sprintf("'c%d': '%s'", i, typ))
	}
	for _, f := range fields {
		if !sc.present[f.name] {
			selects = append(selects, fmt.Sprintf("NULL::%s AS %s", nullType(f.kind), warehouse.Ident(f.name)))
		}
	}
	opts := []string{
		"header = true", "auto_detect = false", "quote = '\"'", "escape = '\"'",
		"delim = " + warehouse.Quote(delim),
		"columns = {" + strings.Join(cols, ", ") + "}",
		"store_rejects = true",
		"rejects_table = " + warehouse.Quote(sc.rejects),
		"rejects_scan = " + warehouse.Quote(sc.rejects+"_scan"),
		"decimal_separator = " + warehouse.Quote(format.Decimal),
	}
	if format.DateFormat != "" {
		opts = append(opts, "dateformat = "+warehouse.Quote(format.DateFormat))
	}
	if strings.TrimSpace(header[len(header)-1]) == "" {
		// A header ending with a delimiter (as Excel writes): rows may or may
		// not carry the same trailing empty field.
		opts = append(opts, "null_padding = true")
	}
	q := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT %s FROM read_csv(%s, %s)",
		sc.table, strings.Join(selects, ", "), warehouse.Quote(p.path), strings.Join(opts, ", "))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return nil, fmt.Errorf("%s: read: %w", file, err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM "+sc.table+"), (SELECT count(DISTINCT line) FROM "+sc.rejects+")").
		Scan(&sc.rows, &sc.rejected); err != nil {
		return nil, fmt.Errorf("%s: count rows: %w", file, err)
	}
	if sc.rows+sc.rejected == 0 {
		return nil, fmt.Errorf("%s: the file has a header but no data rows", file)
	}
	// Name columns as the file does, in the rejects DuckDB reported.
	_, err = conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO load_rejects
		SELECT %[1]s, %[2]s, %[3]s, r.line, n.header,
			lower(r.error_type) || ': ' || replace(replace(replace(replace(CASE WHEN n.header IS NULL THEN r.error_message
				ELSE replace(r.error_message, '"' || r.column_name || '"', '"' || n.header || '"') END,
				'to ''DOUBLE''', 'to a number'), 'to ''DECIMAL''', 'to a number'), 'to ''DATE''', 'to a date'), 'to ''VARCHAR''', 'to text'),
			trim(r.csv_line, chr(10) || chr(13))
		FROM %[4]s r LEFT JOIN (VALUES %[5]s) n(col, header) ON n.col = r.column_name
		WHERE r.error_type <> 'MISSING COLUMNS'
		UNION ALL
		-- a short line is one reject naming every column it lacks
		SELECT %[1]s, %[2]s, %[3]s, r.line, NULL,
			'missing columns: ' || string_agg(coalesce(n.header, r.column_name), ', ' ORDER BY r.column_idx) || ' (' || any_value(r.error_message) || ')',
			trim(any_value(r.csv_line), chr(10) || chr(13))
		FROM %[4]s r LEFT JOIN (VALUES %[5]s) n(col, header) ON n.col = r.column_name
		WHERE r.error_type = 'MISSING COLUMNS'
		GROUP BY r.line
		ORDER BY 4`,
		warehouse.Quote(s.name), warehouse.Quote(ds.target), warehouse.Quote(file), sc.rejects, strings.Join(names, ", ")))
	if err != nil {
		return nil, fmt.Errorf("%s: keep rejects: %w", file, err)
	}
	return sc, nil
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
