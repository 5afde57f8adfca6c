package sheets

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	gsheets "google.golang.org/api/sheets/v4"

	"github.com/uptake-dev/uptake/sql/sqltext"
)

// column is one column of an output table and how its cells are written.
type column struct {
	name, duckType string
	format         *gsheets.NumberFormat // nil: text or boolean
}

// unixEpochSerial is 1970-01-01 as a spreadsheet date (days since 1899-12-30).
const unixEpochSerial = 25569

var integerTypes = map[string]bool{"TINYINT": true, "SMALLINT": true, "INTEGER": true, "BIGINT": true, "HUGEINT": true,
	"UTINYINT": true, "USMALLINT": true, "UINTEGER": true, "UBIGINT": true}

// isRatio tells the columns published as fractions (0.4231): they get a
// percent format, so that a reader sees 42.3 %.
func isRatio(name string) bool {
	for _, suffix := range []string{"_rate", "_pct", "_mom", "utilization", "dau_mau"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

func columnsOf(ctx context.Context, conn *sql.Conn, table string) ([]column, error) {
	list, err := sqltext.Columns(ctx, conn, table)
	if err != nil {
		return nil, err
	}
	var cols []column
	for _, wc := range list {
		c := column{name: wc.Name, duckType: wc.Type}
		switch {
		case c.duckType == "DATE":
			c.format = &gsheets.NumberFormat{Type: "DATE", Pattern: "yyyy-mm-dd"}
		case strings.HasPrefix(c.duckType, "TIMESTAMP"):
			c.format = &gsheets.NumberFormat{Type: "DATE_TIME", Pattern: "yyyy-mm-dd hh:mm:ss"}
		case c.duckType == "DOUBLE" && isRatio(c.name):
			c.format = &gsheets.NumberFormat{Type: "PERCENT", Pattern: "0.0%"}
		case c.duckType == "DOUBLE" || strings.HasPrefix(c.duckType, "DECIMAL"):
			c.format = &gsheets.NumberFormat{Type: "NUMBER", Pattern: "0.00"}
		case integerTypes[c.duckType]:
			c.format = &gsheets.NumberFormat{Type: "NUMBER", Pattern: "0"}
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// selection is which rows of a table a tab gets.
type selection struct {
	query string // SELECT of the rows, in order
	rows  int64  // how many
	total int64  // rows in the table
}

// newestFirst are the log-like output tables a reader reads from the top:
// their tab lists the newest rows first (by these columns), and max_rows
// keeps the newest.
var newestFirst = map[string][]string{"runs": {"started_at", "run_id"}}

// selectRows picks a table's rows for its tab: all of them, or, past limit,
// the most recent whole months (by its month or day column) that fit, so
// that no month is published half; a single month larger than limit is cut
// to its last rows. Tables without a date column keep their last rows;
// those of newestFirst come newest first and keep their newest rows.
func selectRows(ctx context.Context, conn *sql.Conn, table string, cols []column, limit int) (selection, error) {
	var sel []string
	dateCol := ""
	for _, c := range cols {
		sel = append(sel, sqltext.Ident(c.name))
		if (c.name == "month" || c.name == "day") && c.duckType == "DATE" && dateCol == "" {
			dateCol = c.name
		}
	}
	t := sqltext.Ident(table)
	s := selection{query: fmt.Sprintf("SELECT %s FROM %s", strings.Join(sel, ", "), t)}
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&s.total); err != nil {
		return s, fmt.Errorf("count %s: %w", table, err)
	}
	s.rows = s.total
	if order := newestOrder(table, cols); order != "" {
		s.query += " ORDER BY " + order
		if limit > 0 && s.total > int64(limit) {
			s.rows = int64(limit)
			s.query += fmt.Sprintf(" LIMIT %d", limit)
		}
		return s, nil
	}
	if limit <= 0 || s.total <= int64(limit) {
		return s, nil
	}
	s.rows = int64(limit)
	if dateCol == "" {
		s.query += fmt.Sprintf(" OFFSET %d", s.total-int64(limit))
		return s, nil
	}
	col := sqltext.Ident(dateCol)
	var since sql.NullTime
	var kept sql.NullInt64
	err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT min(m), max(cum) FROM (
			SELECT m, sum(n) OVER (ORDER BY m DESC) AS cum
			FROM (SELECT date_trunc('month', %s)::DATE AS m, count(*) AS n FROM %s GROUP BY 1))
		WHERE cum <= %d`, col, t, limit)).Scan(&since, &kept)
	if err != nil {
		return s, fmt.Errorf("cap %s: %w", table, err)
	}
	if !since.Valid { // the latest month alone is larger than the cap: part of it, always the same part
		var order []string
		for i := range cols {
			order = append(order, fmt.Sprint(i+1))
		}
		s.query = fmt.Sprintf("SELECT * FROM (%s ORDER BY %s DESC, %s LIMIT %d) ORDER BY %s", s.query, col, strings.Join(order, ", "), limit, strings.Join(order, ", "))
		return s, nil
	}
	s.rows = kept.Int64
	s.query += fmt.Sprintf(" WHERE %s >= DATE '%s' ORDER BY %s", col, since.Time.Format("2006-01-02"), col)
	return s, nil
}

// newestOrder is the ORDER BY of a newestFirst table ("" for the others, or
// when the table lacks one of the columns).
func newestOrder(table string, cols []column) string {
	keys := newestFirst[table]
	if len(keys) == 0 {
		return ""
	}
	var order []string
	for _, k := range keys {
		found := false
		for _, c := range cols {
			found = found || c.name == k
		}
		if !found {
			return ""
		}
		order = append(order, sqltext.Ident(k)+" DESC")
	}
	return strings.Join(order, ", ")
}

// rowStream hands a tab's rows, header first, one by one to emit: a large
// table never sits whole in memory.
type rowStream func(emit func(*gsheets.RowData) error) error

// streamRows streams the header row and the selected rows as cells. Text is
// always a string value, never a formula: a customer named "=IMPORTXML(...)"
// stays text.
func streamRows(ctx context.Context, conn *sql.Conn, cols []column, s selection) rowStream {
	return func(emit func(*gsheets.RowData) error) error {
		header := &gsheets.RowData{}
		for _, c := range cols {
			header.Values = append(header.Values, &gsheets.CellData{UserEnteredValue: &gsheets.ExtendedValue{StringValue: ptr(c.name)}})
		}
		if err := emit(header); err != nil {
			return err
		}
		rows, err := conn.QueryContext(ctx, s.query)
		if err != nil {
			return fmt.Errorf("read rows: %w", err)
		}
		defer rows.Close()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return fmt.Errorf("read rows: %w", err)
			}
			r := &gsheets.RowData{}
			for i, c := range cols {
				r.Values = append(r.Values, cell(vals[i], c))
			}
			if err := emit(r); err != nil {
				return err
			}
		}
		return rows.Err()
	}
}

// readRows collects a stream (small tabs and tests).
func readRows(ctx context.Context, conn *sql.Conn, cols []column, s selection) ([]*gsheets.RowData, error) {
	var out []*gsheets.RowData
	err := streamRows(ctx, conn, cols, s)(func(r *gsheets.RowData) error { out = append(out, r); return nil })
	return out, err
}

// sliceStream streams rows already in memory.
func sliceStream(rows []*gsheets.RowData) rowStream {
	return func(emit func(*gsheets.RowData) error) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// cell converts one DuckDB value.
func cell(v any, c column) *gsheets.CellData {
	d := &gsheets.CellData{}
	if c.format != nil {
		d.UserEnteredFormat = &gsheets.CellFormat{NumberFormat: c.format}
	}
	switch x := v.(type) {
	case nil:
		return d
	case string:
		d.UserEnteredValue = &gsheets.ExtendedValue{StringValue: ptr(x)}
	case bool:
		d.UserEnteredValue = &gsheets.ExtendedValue{BoolValue: &x, ForceSendFields: []string{"BoolValue"}}
	case time.Time:
		// from Unix seconds: time.Sub saturates past 292 years (9999-12-31)
		d.UserEnteredValue = number(float64(x.Unix())/86400 + unixEpochSerial)
	default:
		f, ok := toFloat(x)
		if !ok {
			d.UserEnteredValue = &gsheets.ExtendedValue{StringValue: ptr(fmt.Sprint(x))}
			return d
		}
		d.UserEnteredValue = number(f)
	}
	return d
}

func number(f float64) *gsheets.ExtendedValue {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &gsheets.ExtendedValue{NumberValue: &f, ForceSendFields: []string{"NumberValue"}}
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case *big.Int: // HUGEINT
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	case interface{ Float64() float64 }: // duckdb.Decimal
		return x.Float64(), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case int16:
		return float64(x), true
	case int8:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	return 0, false
}

func ptr(s string) *string { return &s }

// maxCellChars is Google's limit on the characters of one cell. They are
// counted here in UTF-16 code units (as Sheets' JavaScript and Java do),
// never fewer than characters: a cell that passes here passes at Google.
const maxCellChars = 50_000

// keyColumns name the row of a too long cell in errors, when a table has one.
var keyColumns = []string{"customer_ref", "customer_id", "customer_key", "salesperson"}

// textLen is the length of s in UTF-16 code units.
func textLen(s string) int {
	if len(s) <= maxCellChars { // UTF-8 bytes are never fewer than UTF-16 units
		return len(s)
	}
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// cutText cuts s to maxCellChars UTF-16 units, the last one an ellipsis.
func cutText(s string) string {
	n := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > maxCellChars-1 {
			return s[:i] + "…"
		}
		n += w
	}
	return s
}

// longText is a text cell over maxCellChars.
func longText(d *gsheets.CellData) bool {
	v := d.UserEnteredValue
	return v != nil && v.StringValue != nil && textLen(*v.StringValue) > maxCellChars
}

// checkText finds, before anything is sent, the cells of a tab longer than
// a Google Sheets cell holds. Without truncate the first one is an error
// naming the table, the row and the column; with it they are counted (and
// cut by cutLongText when written).
func checkText(ctx context.Context, conn *sql.Conn, what string, cols []column, s selection, truncate bool) (int64, error) {
	// Fast path: text columns only VARCHAR, none of them longer in bytes.
	var lens []string
	scan := false
	for _, c := range cols {
		switch {
		case c.format != nil || c.duckType == "BOOLEAN":
		case c.duckType == "VARCHAR":
			lens = append(lens, fmt.Sprintf("coalesce(max(strlen(%s)), 0)", sqltext.Ident(c.name)))
		default:
			scan = true // written with fmt.Sprint: measured as written
		}
	}
	if !scan {
		if len(lens) == 0 {
			return 0, nil
		}
		var longest int64
		lens = append(lens, "0")
		q := fmt.Sprintf("SELECT greatest(%s) FROM (%s)", strings.Join(lens, ", "), s.query)
		if err := conn.QueryRowContext(ctx, q).Scan(&longest); err != nil {
			return 0, fmt.Errorf("measure text of %s: %w", what, err)
		}
		if longest <= maxCellChars {
			return 0, nil
		}
	}
	key := -1
	for _, k := range keyColumns {
		for i, c := range cols {
			if key < 0 && c.name == k {
				key = i
			}
		}
	}
	var row, cut int64
	err := streamRows(ctx, conn, cols, s)(func(r *gsheets.RowData) error {
		defer func() { row++ }()
		if row == 0 { // the header
			return nil
		}
		for i, d := range r.Values {
			if !longText(d) {
				continue
			}
			if truncate {
				cut++
				continue
			}
			where := fmt.Sprintf("data row %d (row %d of the tab)", row, row+1)
			if key >= 0 && key != i {
				if v := r.Values[key].UserEnteredValue; v != nil {
					where += fmt.Sprintf(" (%s %s)", cols[key].name, cellText(v))
				}
			}
			return fmt.Errorf("%s, %s, column %s: %d characters, above the %d characters of a Google Sheets cell: shorten it in the model, or set truncate_long_text: true to cut such cells",
				what, where, cols[i].name, textLen(*d.UserEnteredValue.StringValue), maxCellChars)
		}
		return nil
	})
	return cut, err
}

// cellText shows a key cell's value in a message.
func cellText(v *gsheets.ExtendedValue) string {
	switch {
	case v.StringValue != nil:
		return *v.StringValue
	case v.NumberValue != nil:
		return fmt.Sprint(*v.NumberValue)
	}
	return "?"
}

// cutLongText cuts the cells of a stream longer than maxCellChars.
func cutLongText(rows rowStream) rowStream {
	return func(emit func(*gsheets.RowData) error) error {
		return rows(func(r *gsheets.RowData) error {
			for _, d := range r.Values {
				if longText(d) {
					d.UserEnteredValue.StringValue = ptr(cutText(*d.UserEnteredValue.StringValue))
				}
			}
			return emit(r)
		})
	}
}
