package sheetsfake

import (
	"sort"
	"strconv"
	"strings"

	sheets "google.golang.org/api/sheets/v4"
)

// Sheet is a snapshot of one sheet (tab) of a spreadsheet, as returned by
// Server.Sheet and Server.Sheets.
type Sheet struct {
	ID             int64
	Title          string
	Index          int
	Hidden         bool
	RowCount       int
	ColumnCount    int
	FrozenRowCount int
	// FrozenColumnCount is the number of frozen columns.
	FrozenColumnCount int
	// Cells is rectangular: it has one row per grid row up to the last row
	// holding a non-empty cell, each as long as the rightmost non-empty
	// column of the sheet, so Cells[r][c] exists for every written cell.
	// Empty cells have the zero Cell.
	Cells [][]Cell
}

// Cell is the user-entered content of one cell. Kind is "" (empty),
// "string", "number", "bool" or "formula"; the matching field holds the
// value. FormatType and FormatPattern are userEnteredFormat.numberFormat's
// type (NUMBER, PERCENT, DATE, DATE_TIME, TEXT, ...) and pattern.
type Cell struct {
	Kind          string
	String        string
	Number        float64
	Bool          bool
	Formula       string
	FormatType    string
	FormatPattern string
}

func (c Cell) empty() bool { return c == Cell{} }

func (c Cell) hasValue() bool { return c.Kind != "" }

type coord struct{ row, col int }

// sheet is the stored state of one sheet. Cells are sparse: only non-empty
// cells are in the map, so huge grids cost nothing.
type sheet struct {
	props Sheet // Cells unused
	cells map[coord]Cell
}

type spreadsheet struct {
	id     string
	title  string
	sheets []*sheet // in index order; props.Index == position
}

func (sh *sheet) clone() *sheet {
	c := &sheet{props: sh.props, cells: make(map[coord]Cell, len(sh.cells))}
	for k, v := range sh.cells {
		c.cells[k] = v
	}
	return c
}

func (ss *spreadsheet) clone() *spreadsheet {
	c := &spreadsheet{id: ss.id, title: ss.title}
	for _, sh := range ss.sheets {
		c.sheets = append(c.sheets, sh.clone())
	}
	return c
}

func (ss *spreadsheet) reindex() {
	for i, sh := range ss.sheets {
		sh.props.Index = i
	}
}

func (ss *spreadsheet) byID(id int64) *sheet {
	for _, sh := range ss.sheets {
		if sh.props.ID == id {
			return sh
		}
	}
	return nil
}

func (ss *spreadsheet) byTitle(title string) *sheet {
	for _, sh := range ss.sheets {
		if strings.EqualFold(sh.props.Title, title) {
			return sh
		}
	}
	return nil
}

func (ss *spreadsheet) totalCells() int64 {
	var n int64
	for _, sh := range ss.sheets {
		n += int64(sh.props.RowCount) * int64(sh.props.ColumnCount)
	}
	return n
}

// set stores c at (r, col), dropping it when empty.
func (sh *sheet) set(r, col int, c Cell) {
	if c.empty() {
		delete(sh.cells, coord{r, col})
		return
	}
	sh.cells[coord{r, col}] = c
}

// crop drops the cells outside the grid.
func (sh *sheet) crop() {
	for k := range sh.cells {
		if k.row >= sh.props.RowCount || k.col >= sh.props.ColumnCount {
			delete(sh.cells, k)
		}
	}
}

// snapshot returns the exported deep copy of the sheet.
func (sh *sheet) snapshot() Sheet {
	out := sh.props
	out.Cells = nil
	rows, cols := 0, 0
	for k := range sh.cells {
		rows = max(rows, k.row+1)
		cols = max(cols, k.col+1)
	}
	if rows > 0 {
		out.Cells = make([][]Cell, rows)
		for r := range out.Cells {
			out.Cells[r] = make([]Cell, cols)
		}
		for k, v := range sh.cells {
			out.Cells[k.row][k.col] = v
		}
	}
	return out
}

func (sh *sheet) properties() *sheets.SheetProperties {
	p := sh.props
	return &sheets.SheetProperties{
		SheetId:   p.ID,
		Title:     p.Title,
		Index:     int64(p.Index),
		SheetType: "GRID",
		Hidden:    p.Hidden,
		GridProperties: &sheets.GridProperties{
			RowCount:          int64(p.RowCount),
			ColumnCount:       int64(p.ColumnCount),
			FrozenRowCount:    int64(p.FrozenRowCount),
			FrozenColumnCount: int64(p.FrozenColumnCount),
		},
	}
}

// resource renders the spreadsheet as the Spreadsheet resource. With
// gridData, each sheet listed in only (all when only is nil) carries its
// cells from A1 to the last non-empty cell in data[0].
func (ss *spreadsheet) resource(baseURL string, gridData bool, only map[string]bool) *sheets.Spreadsheet {
	out := &sheets.Spreadsheet{
		SpreadsheetId:  ss.id,
		SpreadsheetUrl: baseURL + "/spreadsheets/d/" + ss.id + "/edit",
		Properties: &sheets.SpreadsheetProperties{
			Title: ss.title, Locale: "en_US", TimeZone: "Etc/GMT", AutoRecalc: "ON_CHANGE",
		},
	}
	for _, sh := range ss.sheets {
		if only != nil && !only[strings.ToLower(sh.props.Title)] {
			continue
		}
		s := &sheets.Sheet{Properties: sh.properties()}
		if gridData {
			s.Data = []*sheets.GridData{sh.gridData()}
		}
		out.Sheets = append(out.Sheets, s)
	}
	return out
}

func (sh *sheet) gridData() *sheets.GridData {
	snap := sh.snapshot()
	gd := &sheets.GridData{}
	for _, row := range snap.Cells {
		rd := &sheets.RowData{}
		last := -1
		for c, cell := range row {
			if !cell.empty() {
				last = c
			}
		}
		for _, cell := range row[:last+1] {
			rd.Values = append(rd.Values, cellData(cell))
		}
		gd.RowData = append(gd.RowData, rd)
	}
	return gd
}

func cellData(c Cell) *sheets.CellData {
	d := &sheets.CellData{}
	switch c.Kind {
	case "string":
		s := c.String
		d.UserEnteredValue = &sheets.ExtendedValue{StringValue: &s}
		d.EffectiveValue = &sheets.ExtendedValue{StringValue: &s}
		d.FormattedValue = s
	case "number":
		n := c.Number
		d.UserEnteredValue = &sheets.ExtendedValue{NumberValue: &n}
		d.EffectiveValue = &sheets.ExtendedValue{NumberValue: &n}
		d.FormattedValue = strconv.FormatFloat(n, 'f', -1, 64)
	case "bool":
		b := c.Bool
		d.UserEnteredValue = &sheets.ExtendedValue{BoolValue: &b}
		d.EffectiveValue = &sheets.ExtendedValue{BoolValue: &b}
		d.FormattedValue = strings.ToUpper(strconv.FormatBool(b))
	case "formula":
		// The fake does not evaluate formulas: no effective value.
		f := c.Formula
		d.UserEnteredValue = &sheets.ExtendedValue{FormulaValue: &f}
	}
	if c.FormatType != "" || c.FormatPattern != "" {
		d.UserEnteredFormat = &sheets.CellFormat{NumberFormat: &sheets.NumberFormat{Type: c.FormatType, Pattern: c.FormatPattern}}
	}
	return d
}

// rangeTitles extracts the sheet titles of A1 ranges ("Sheet1!A1:B2",
// "'My tab'!A:A", "Sheet1"), lower-cased.
func rangeTitles(ranges []string) map[string]bool {
	if len(ranges) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, r := range ranges {
		title := r
		if i := strings.LastIndex(r, "!"); i >= 0 {
			title = r[:i]
		}
		if len(title) >= 2 && title[0] == '\'' && title[len(title)-1] == '\'' {
			title = strings.ReplaceAll(title[1:len(title)-1], "''", "'")
		}
		out[strings.ToLower(title)] = true
	}
	return out
}

func sortedSheets(ss *spreadsheet) []Sheet {
	out := make([]Sheet, 0, len(ss.sheets))
	for _, sh := range ss.sheets {
		out = append(out, sh.snapshot())
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}
