package sheetsfake

import "strings"

// appendDimension and deleteDimension: adding rows or columns at the end of
// a sheet, and deleting a range of them (cells after it move up or left).

func (ss *spreadsheet) appendDimension(in appendDimensionIn) error {
	sh := ss.byID(in.SheetID)
	if sh == nil {
		return bad("No grid with id: %d", in.SheetID)
	}
	if in.Length <= 0 {
		return bad("length must be greater than 0, got %d", in.Length)
	}
	np := sh.props
	switch in.Dimension {
	case "ROWS":
		np.RowCount += int(in.Length)
	case "COLUMNS":
		np.ColumnCount += int(in.Length)
	default:
		return bad("dimension must be ROWS or COLUMNS, got %q", in.Dimension)
	}
	if err := checkGrid(&np); err != nil {
		return err
	}
	sh.props = np
	return nil
}

func (ss *spreadsheet) deleteDimension(in deleteDimensionIn) error {
	r := in.Range
	if r == nil {
		return bad("range is required")
	}
	sh := ss.byID(r.SheetID)
	if sh == nil {
		return bad("No grid with id: %d", r.SheetID)
	}
	count := sh.props.RowCount
	if r.Dimension == "COLUMNS" {
		count = sh.props.ColumnCount
	} else if r.Dimension != "ROWS" {
		return bad("dimension must be ROWS or COLUMNS, got %q", r.Dimension)
	}
	start, end := 0, count
	if r.StartIndex != nil {
		start = int(*r.StartIndex)
	}
	if r.EndIndex != nil {
		end = int(*r.EndIndex)
	}
	if start < 0 || end < start || end > count {
		return bad("Invalid dimension range [%d, %d) for a sheet with %d %s.", start, end, count, strings.ToLower(r.Dimension))
	}
	n := end - start
	moved := make(map[coord]Cell, len(sh.cells))
	for k, v := range sh.cells {
		pos := &k.row
		if r.Dimension == "COLUMNS" {
			pos = &k.col
		}
		switch {
		case *pos >= end:
			*pos -= n
		case *pos >= start:
			continue
		}
		moved[k] = v
	}
	np := sh.props
	if r.Dimension == "ROWS" {
		np.RowCount -= n
		np.FrozenRowCount -= max(0, min(end, np.FrozenRowCount)-start)
	} else {
		np.ColumnCount -= n
		np.FrozenColumnCount -= max(0, min(end, np.FrozenColumnCount)-start)
	}
	if err := checkGrid(&np); err != nil {
		return err
	}
	sh.props, sh.cells = np, moved
	return nil
}
