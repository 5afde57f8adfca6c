package sheetsfake

import (
	"fmt"
	"unicode/utf8"
)

type numberFormatIn struct {
	Type    string `json:"type"`
	Pattern string `json:"pattern"`
}

type cellFormatIn struct {
	NumberFormat *numberFormatIn `json:"numberFormat"`
}

type extendedValueIn struct {
	StringValue  *string  `json:"stringValue"`
	NumberValue  *float64 `json:"numberValue"`
	BoolValue    *bool    `json:"boolValue"`
	FormulaValue *string  `json:"formulaValue"`
}

type cellDataIn struct {
	UserEnteredValue  *extendedValueIn `json:"userEnteredValue"`
	UserEnteredFormat *cellFormatIn    `json:"userEnteredFormat"`
}

type rowDataIn struct {
	Values []*cellDataIn `json:"values"`
}

type gridCoordIn struct {
	SheetID     int64 `json:"sheetId"`
	RowIndex    int   `json:"rowIndex"`
	ColumnIndex int   `json:"columnIndex"`
}

type gridRangeIn struct {
	SheetID          int64 `json:"sheetId"`
	StartRowIndex    int   `json:"startRowIndex"`
	EndRowIndex      *int  `json:"endRowIndex"`
	StartColumnIndex int   `json:"startColumnIndex"`
	EndColumnIndex   *int  `json:"endColumnIndex"`
}

type updateCellsIn struct {
	Rows   []*rowDataIn `json:"rows"`
	Fields string       `json:"fields"`
	Start  *gridCoordIn `json:"start"`
	Range  *gridRangeIn `json:"range"`
}

type repeatCellIn struct {
	Range  *gridRangeIn `json:"range"`
	Cell   *cellDataIn  `json:"cell"`
	Fields string       `json:"fields"`
}

type copyPasteIn struct {
	Source           *gridRangeIn `json:"source"`
	Destination      *gridRangeIn `json:"destination"`
	PasteType        string       `json:"pasteType"`
	PasteOrientation string       `json:"pasteOrientation"`
}

var numberFormatTypes = map[string]bool{
	"NUMBER_FORMAT_TYPE_UNSPECIFIED": true, "TEXT": true, "NUMBER": true, "PERCENT": true,
	"CURRENCY": true, "DATE": true, "TIME": true, "DATE_TIME": true, "SCIENTIFIC": true,
}

var cellPaths = map[string][]string{
	"*":                              {"value", "format"},
	"userEnteredValue":               {"value"},
	"userEnteredFormat":              {"format"},
	"userEnteredFormat.numberFormat": {"format"},
}

// rect is a resolved grid range: rows [r0, r1), columns [c0, c1).
type rect struct{ r0, r1, c0, c1 int }

func (r rect) contains(k coord) bool {
	return k.row >= r.r0 && k.row < r.r1 && k.col >= r.c0 && k.col < r.c1
}

// resolve turns a GridRange into a rect of an existing sheet; omitted end
// indexes extend to the end of the grid.
func (ss *spreadsheet) resolve(g *gridRangeIn, name string) (*sheet, rect, error) {
	if g == nil {
		return nil, rect{}, bad("%s is required", name)
	}
	sh := ss.byID(g.SheetID)
	if sh == nil {
		return nil, rect{}, bad("No grid with id: %d", g.SheetID)
	}
	r := rect{r0: g.StartRowIndex, r1: sh.props.RowCount, c0: g.StartColumnIndex, c1: sh.props.ColumnCount}
	if g.EndRowIndex != nil {
		r.r1 = *g.EndRowIndex
	}
	if g.EndColumnIndex != nil {
		r.c1 = *g.EndColumnIndex
	}
	switch {
	case r.r0 < 0 || r.c0 < 0:
		return nil, r, bad("%s: start indexes must be non-negative", name)
	case r.r1 < r.r0:
		return nil, r, bad("%s: endRowIndex[%d] is before startRowIndex[%d]", name, r.r1, r.r0)
	case r.c1 < r.c0:
		return nil, r, bad("%s: endColumnIndex[%d] is before startColumnIndex[%d]", name, r.c1, r.c0)
	case r.r1 > sh.props.RowCount:
		return nil, r, bad("GridRange.endRowIndex[%d] is after last row in grid[%d]", r.r1, sh.props.RowCount-1)
	case r.c1 > sh.props.ColumnCount:
		return nil, r, bad("GridRange.endColumnIndex[%d] is after last column in grid[%d]", r.c1, sh.props.ColumnCount-1)
	}
	return sh, r, nil
}

func checkInGrid(sh *sheet, row, col int) error {
	if row >= sh.props.RowCount {
		return bad("GridCoordinate.rowIndex[%d] is after last row in grid[%d]", row, sh.props.RowCount-1)
	}
	if col >= sh.props.ColumnCount {
		return bad("GridCoordinate.columnIndex[%d] is after last column in grid[%d]", col, sh.props.ColumnCount-1)
	}
	return nil
}

// toCell converts request CellData into the fake's Cell.
func toCell(d *cellDataIn, where string) (Cell, error) {
	var c Cell
	if d == nil {
		return c, nil
	}
	if v := d.UserEnteredValue; v != nil {
		set := 0
		if v.StringValue != nil {
			c.Kind, c.String = "string", *v.StringValue
			set++
		}
		if v.NumberValue != nil {
			c.Kind, c.Number = "number", *v.NumberValue
			set++
		}
		if v.BoolValue != nil {
			c.Kind, c.Bool = "bool", *v.BoolValue
			set++
		}
		if v.FormulaValue != nil {
			c.Kind, c.Formula = "formula", *v.FormulaValue
			set++
		}
		if set > 1 {
			return c, invalidf("Invalid value at '%s.user_entered_value': only one of stringValue, numberValue, boolValue, formulaValue may be set (oneof value).", where)
		}
		if utf8.RuneCountInString(c.String) > MaxCellChars || utf8.RuneCountInString(c.Formula) > MaxCellChars {
			return c, bad("Your input contains more than the maximum of %d characters in a single cell.", MaxCellChars)
		}
	}
	if f := d.UserEnteredFormat; f != nil && f.NumberFormat != nil {
		if !numberFormatTypes[f.NumberFormat.Type] {
			return c, invalidf("Invalid value at '%s.user_entered_format.number_format.type' (type.googleapis.com/google.apps.sheets.v4.NumberFormatType), \"%s\"", where, f.NumberFormat.Type)
		}
		c.FormatType, c.FormatPattern = f.NumberFormat.Type, f.NumberFormat.Pattern
	}
	return c, nil
}

// merge returns dst with the parts of src selected by mask replaced.
func merge(dst, src Cell, mask map[string]bool) Cell {
	if mask["value"] {
		dst.Kind, dst.String, dst.Number, dst.Bool, dst.Formula = src.Kind, src.String, src.Number, src.Bool, src.Formula
	}
	if mask["format"] {
		dst.FormatType, dst.FormatPattern = src.FormatType, src.FormatPattern
	}
	return dst
}

func (ss *spreadsheet) updateCells(in updateCellsIn, where string) error {
	mask, err := parseMask(in.Fields, cellPaths)
	if err != nil {
		return err
	}
	if (in.Start == nil) == (in.Range == nil) {
		return bad("Exactly one of start or range must be specified.")
	}
	var sh *sheet
	var r0, c0 int
	if in.Start != nil {
		sh = ss.byID(in.Start.SheetID)
		if sh == nil {
			return bad("No grid with id: %d", in.Start.SheetID)
		}
		r0, c0 = in.Start.RowIndex, in.Start.ColumnIndex
		if r0 < 0 || c0 < 0 {
			return bad("GridCoordinate indexes must be non-negative.")
		}
		if err := checkInGrid(sh, r0, c0); err != nil {
			return err
		}
	} else {
		var rr rect
		sh, rr, err = ss.resolve(in.Range, "range")
		if err != nil {
			return err
		}
		r0, c0 = rr.r0, rr.c0
		if len(in.Rows) > rr.r1-rr.r0 {
			return bad("Attempting to write row: %d, beyond the last requested row of: %d", rr.r0+len(in.Rows)-1, rr.r1-1)
		}
		for _, row := range in.Rows {
			if row != nil && len(row.Values) > rr.c1-rr.c0 {
				return bad("Attempting to write column: %d, beyond the last requested column of: %d", rr.c0+len(row.Values)-1, rr.c1-1)
			}
		}
		// Cells of the range not covered by rows get the masked fields cleared.
		for k, v := range sh.cells {
			if rr.contains(k) {
				sh.set(k.row, k.col, merge(v, Cell{}, mask))
			}
		}
	}
	for i, row := range in.Rows {
		if row == nil {
			continue
		}
		for j, d := range row.Values {
			c, err := toCell(d, fmt.Sprintf("%s.rows[%d].values[%d]", where, i, j))
			if err != nil {
				return err
			}
			if err := checkInGrid(sh, r0+i, c0+j); err != nil {
				return err
			}
			sh.set(r0+i, c0+j, merge(sh.cells[coord{r0 + i, c0 + j}], c, mask))
		}
	}
	return nil
}

// repeatCell sets the masked fields of every cell of the range to those
// of in.Cell (an omitted cell clears them).
func (ss *spreadsheet) repeatCell(in repeatCellIn, where string) error {
	mask, err := parseMask(in.Fields, cellPaths)
	if err != nil {
		return err
	}
	sh, r, err := ss.resolve(in.Range, "range")
	if err != nil {
		return err
	}
	c, err := toCell(in.Cell, where+".cell")
	if err != nil {
		return err
	}
	if c.Kind == "formula" {
		return bad("sheetsfake: repeatCell with a formula is not supported by the fake (it does not shift relative references)")
	}
	for row := r.r0; row < r.r1; row++ {
		for col := r.c0; col < r.c1; col++ {
			sh.set(row, col, merge(sh.cells[coord{row, col}], c, mask))
		}
	}
	return nil
}

func (ss *spreadsheet) copyPaste(in copyPasteIn) error {
	var mask map[string]bool
	keepFormulas := true
	switch in.PasteType {
	case "", "PASTE_NORMAL", "PASTE_NO_BORDERS":
		mask = map[string]bool{"value": true, "format": true}
	case "PASTE_VALUES":
		mask, keepFormulas = map[string]bool{"value": true}, false
	case "PASTE_FORMULA":
		mask = map[string]bool{"value": true}
	case "PASTE_FORMAT":
		mask = map[string]bool{"format": true}
	default:
		return bad("sheetsfake: pasteType %s is not supported by the fake", in.PasteType)
	}
	if in.PasteOrientation != "" && in.PasteOrientation != "NORMAL" {
		return bad("sheetsfake: pasteOrientation %s is not supported by the fake", in.PasteOrientation)
	}
	src, sr, err := ss.resolve(in.Source, "source")
	if err != nil {
		return err
	}
	dst, dr, err := ss.resolve(in.Destination, "destination")
	if err != nil {
		return err
	}
	h, w := sr.r1-sr.r0, sr.c1-sr.c0
	if h == 0 || w == 0 {
		return nil
	}
	// As in Sheets, a destination spanning a multiple of the source's size
	// is filled by repeating the source; otherwise the source is pasted once
	// from the destination's top-left corner, whatever its size.
	repR, repC := 1, 1
	if dh := dr.r1 - dr.r0; dh > h && dh%h == 0 {
		repR = dh / h
	}
	if dw := dr.c1 - dr.c0; dw > w && dw%w == 0 {
		repC = dw / w
	}
	if err := checkInGrid(dst, dr.r0+h*repR-1, dr.c0+w*repC-1); err != nil {
		return err
	}
	type srcCell struct {
		k coord
		c Cell
	}
	var cells []srcCell
	for k, c := range src.cells {
		if !sr.contains(k) {
			continue
		}
		if c.Kind == "formula" {
			if !keepFormulas {
				return bad("sheetsfake: cannot paste values of formula cell (%d,%d): the fake does not evaluate formulas", k.row, k.col)
			}
			if repR*repC > 1 || dr.r0 != sr.r0 || dr.c0 != sr.c0 {
				return bad("sheetsfake: cannot paste formula cell (%d,%d) to another position: the fake does not shift relative references", k.row, k.col)
			}
		}
		cells = append(cells, srcCell{k, c})
	}
	area := rect{dr.r0, dr.r0 + h*repR, dr.c0, dr.c0 + w*repC}
	for k, v := range dst.cells {
		if area.contains(k) {
			dst.set(k.row, k.col, merge(v, Cell{}, mask))
		}
	}
	for i := 0; i < repR; i++ {
		for j := 0; j < repC; j++ {
			for _, sc := range cells {
				r := dr.r0 + i*h + sc.k.row - sr.r0
				c := dr.c0 + j*w + sc.k.col - sr.c0
				dst.set(r, c, merge(dst.cells[coord{r, c}], sc.c, mask))
			}
		}
	}
	return nil
}
