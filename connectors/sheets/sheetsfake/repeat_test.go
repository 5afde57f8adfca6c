package sheetsfake_test

import (
	"fmt"
	"strings"
	"testing"

	sheets "google.golang.org/api/sheets/v4"
)

// repeatCell builds a repeatCell request over rows [r0, r1) and columns
// [c0, c1) of a sheet.
func repeatCell(sheetID, r0, r1, c0, c1 int64, cell *sheets.CellData, fields string) *sheets.Request {
	return &sheets.Request{RepeatCell: &sheets.RepeatCellRequest{
		Range: &sheets.GridRange{SheetId: sheetID, StartRowIndex: r0, EndRowIndex: r1, StartColumnIndex: c0, EndColumnIndex: c1},
		Cell:  cell, Fields: fields,
	}}
}

func TestRepeatCellSetsTheMaskedFieldsOfARange(t *testing.T) {
	srv, svc, id := setup(t, "Summary")
	mustBatch(t, svc, id, updateCells(0, 0, 0, "userEnteredValue", rows(
		[]*sheets.CellData{str("n"), str("rate")},
		[]*sheets.CellData{num(1, "", ""), num(0.5, "", "")},
	)))
	// A format over rows 2-3 of both columns: values stay, empty cells get it.
	mustBatch(t, svc, id, repeatCell(0, 1, 3, 0, 2, num(0, "PERCENT", "0.0%"), "userEnteredFormat.numberFormat"))
	c := sheetOf(t, srv, id, "Summary").Cells
	if len(c) != 3 || c[0][0].FormatType != "" || c[1][1].Number != 0.5 || c[1][1].FormatType != "PERCENT" || c[2][0].Kind != "" || c[2][0].FormatPattern != "0.0%" {
		t.Errorf("after repeatCell: %+v", c)
	}
	// An omitted cell clears the masked fields.
	mustBatch(t, svc, id, &sheets.Request{RepeatCell: &sheets.RepeatCellRequest{
		Range: &sheets.GridRange{StartRowIndex: 2, EndRowIndex: 3, EndColumnIndex: 2}, Fields: "userEnteredFormat"}})
	if c := sheetOf(t, srv, id, "Summary").Cells; len(c) != 2 || c[1][0].FormatType != "PERCENT" {
		t.Errorf("after clearing row 3: %+v", c)
	}
}

// As Google, the fake refuses a repeatCell or updateCells whose range names
// no sheet, lies outside the grid or is reversed, or that has no mask; a
// refused request fails its whole batch.
func TestMalformedRangesAreRefused(t *testing.T) {
	srv, svc, id := setup(t, "Summary")
	format := num(0, "NUMBER", "0")
	cases := []struct {
		req  *sheets.Request
		want string
	}{
		{repeatCell(4242, 0, 1, 0, 1, format, "userEnteredFormat.numberFormat"), "Invalid requests[1].repeatCell: No grid with id: 4242"},
		{repeatCell(0, 0, 1001, 0, 1, format, "userEnteredFormat.numberFormat"), "Invalid requests[1].repeatCell: GridRange.endRowIndex[1001] is after last row in grid[999]"},
		{repeatCell(0, 0, 1, 0, 27, format, "userEnteredFormat.numberFormat"), "GridRange.endColumnIndex[27] is after last column in grid[25]"},
		{repeatCell(0, 5, 1, 0, 1, format, "userEnteredFormat.numberFormat"), "Invalid requests[1].repeatCell: range: endRowIndex[1] is before startRowIndex[5]"},
		{repeatCell(0, 0, 1, 0, 1, format, ""), "Invalid requests[1].repeatCell: At least one field must be specified in 'fields'."},
		{&sheets.Request{RepeatCell: &sheets.RepeatCellRequest{Cell: format, Fields: "userEnteredFormat"}}, "Invalid requests[1].repeatCell: range is required"},
		{repeatCell(0, 0, 1, 0, 1, num(0, "NUMERIC", "0"), "userEnteredFormat.numberFormat"), "Invalid value at 'requests[1].repeatCell.cell.user_entered_format.number_format.type'"},
		{updateCells(4242, 0, 0, "userEnteredValue", rows([]*sheets.CellData{str("x")})), "Invalid requests[1].updateCells: No grid with id: 4242"},
	}
	for _, c := range cases {
		_, err := batch(svc, id, updateCells(0, 0, 0, "userEnteredValue", rows([]*sheets.CellData{str("kept?")})), c.req)
		wantErr(t, err, 400, "INVALID_ARGUMENT", c.want)
	}
	if c := sheetOf(t, srv, id, "Summary").Cells; c != nil {
		t.Errorf("refused batches changed the sheet: %+v", c)
	}
}

// A batch writing several sheets at once is refused whole when its body
// passes the payload limit, and accepted at the limit.
func TestAManyTabBatchOverThePayloadLimitChangesNothing(t *testing.T) {
	srv, svc, id := setup(t, "A", "B")
	b := sheetOf(t, srv, id, "B").ID
	text := strings.Repeat("x", 400)
	reqs := []*sheets.Request{
		updateCells(0, 0, 0, "userEnteredValue", rows([]*sheets.CellData{str(text)})),
		updateCells(b, 0, 0, "userEnteredValue", rows([]*sheets.CellData{str(text)})),
	}
	mustBatch(t, svc, id, reqs...)
	logged := srv.Requests()
	size := len(logged[len(logged)-1].Body)
	srv.SetMaxRequestBytes(size - 1)
	reqs[0].UpdateCells.Rows[0].Values[0] = str(strings.Repeat("z", 400))
	reqs[1].UpdateCells.Rows[0].Values[0] = str(strings.Repeat("y", 400))
	_, err := batch(svc, id, reqs...)
	wantErr(t, err, 400, "INVALID_ARGUMENT", fmt.Sprintf("Request payload size exceeds the limit: %d bytes.", size-1))
	if a := sheetOf(t, srv, id, "A"); a.Cells[0][0].String != text {
		t.Errorf("a refused batch changed A1: %q", a.Cells[0][0].String)
	}
	srv.SetMaxRequestBytes(size)
	mustBatch(t, svc, id, reqs...)
}
