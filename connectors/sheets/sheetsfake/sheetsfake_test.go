package sheetsfake_test

import (
	"context"
	"testing"

	sheets "google.golang.org/api/sheets/v4"

	"github.com/uptake-dev/uptake/connectors/sheets/sheetsfake"
)

func TestGetAndSheetOperations(t *testing.T) {
	srv, svc, id := setup(t, "Summary", "Raw")
	ctx := context.Background()

	got, err := svc.Spreadsheets.Get(id).Fields("properties.title,sheets.properties").Context(ctx).Do()
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Properties.Title != "KPIs" || len(got.Sheets) != 2 {
		t.Fatalf("get = %q with %d sheets", got.Properties.Title, len(got.Sheets))
	}
	p0, p1 := got.Sheets[0].Properties, got.Sheets[1].Properties
	if p0.Title != "Summary" || p0.SheetId != 0 || p0.Index != 0 || p0.SheetType != "GRID" ||
		p0.GridProperties.RowCount != 1000 || p0.GridProperties.ColumnCount != 26 {
		t.Errorf("sheet 0 = %+v %+v", p0, p0.GridProperties)
	}
	if p1.Title != "Raw" || p1.SheetId <= 0 || p1.Index != 1 {
		t.Errorf("sheet 1 = %+v", p1)
	}

	// addSheet at index 1, then rename/hide/resize it, then delete "Raw".
	resp := mustBatch(t, svc, id, &sheets.Request{AddSheet: &sheets.AddSheetRequest{Properties: &sheets.SheetProperties{
		Title: "Daily", Index: 1, GridProperties: &sheets.GridProperties{RowCount: 10, ColumnCount: 5, FrozenRowCount: 1},
	}}})
	if resp.SpreadsheetId != id || len(resp.Replies) != 1 || resp.Replies[0].AddSheet == nil {
		t.Fatalf("addSheet reply = %+v", resp)
	}
	daily := resp.Replies[0].AddSheet.Properties
	if daily.Title != "Daily" || daily.SheetId <= 0 || daily.Index != 1 || daily.GridProperties.RowCount != 10 {
		t.Errorf("addSheet properties = %+v", daily)
	}
	resp = mustBatch(t, svc, id,
		&sheets.Request{UpdateSheetProperties: &sheets.UpdateSheetPropertiesRequest{
			Properties: &sheets.SheetProperties{SheetId: daily.SheetId, Title: "Daily KPIs", Hidden: true,
				GridProperties: &sheets.GridProperties{RowCount: 20, ColumnCount: 99}},
			Fields: "title,hidden,gridProperties.rowCount", // columnCount not in the mask: unchanged
		}},
		&sheets.Request{DeleteSheet: &sheets.DeleteSheetRequest{SheetId: p1.SheetId}},
	)
	if len(resp.Replies) != 2 || resp.Replies[0].AddSheet != nil {
		t.Errorf("replies = %+v", resp.Replies)
	}
	all := srv.Sheets(id)
	if titles(all) != "Summary,Daily KPIs" {
		t.Fatalf("sheets = %s", titles(all))
	}
	d := all[1]
	if d.ID != daily.SheetId || !d.Hidden || d.RowCount != 20 || d.ColumnCount != 5 || d.FrozenRowCount != 1 || d.Index != 1 {
		t.Errorf("updated sheet = %+v", d)
	}

	// Errors: unknown sheet, last sheet, missing mask.
	_, err = batch(svc, id, &sheets.Request{DeleteSheet: &sheets.DeleteSheetRequest{SheetId: 12345}})
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[0].deleteSheet: No sheet with id: 12345")
	_, err = batch(svc, id, &sheets.Request{DeleteSheet: &sheets.DeleteSheetRequest{SheetId: d.ID}},
		&sheets.Request{DeleteSheet: &sheets.DeleteSheetRequest{SheetId: 0, ForceSendFields: []string{"SheetId"}}})
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[1].deleteSheet: You can't remove all the sheets in a document.")
	_, err = batch(svc, id, &sheets.Request{UpdateSheetProperties: &sheets.UpdateSheetPropertiesRequest{
		Properties: &sheets.SheetProperties{Title: "x"}}})
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[0].updateSheetProperties: ")
	if titles(srv.Sheets(id)) != "Summary,Daily KPIs" {
		t.Errorf("failed batches changed the sheets: %s", titles(srv.Sheets(id)))
	}
}

func TestBatchIsAtomic(t *testing.T) {
	srv, svc, id := setup(t, "Summary")
	_, err := batch(svc, id,
		addSheet("New", 0, 10, 3, false),
		updateCells(0, 0, 0, "userEnteredValue", rows([]*sheets.CellData{str("kept?")})),
		addSheet("Summary", 0, 10, 3, false),
	)
	wantErr(t, err, 400, "INVALID_ARGUMENT",
		`Invalid requests[2].addSheet: A sheet with the name "Summary" already exists. Please enter another name.`)
	if all := srv.Sheets(id); titles(all) != "Summary" || all[0].Cells != nil {
		t.Errorf("state after failed batch = %s %v", titles(all), all[0].Cells)
	}
	_, err = batch(svc, id, addSheet("A", 77, 10, 3, false), addSheet("B", 77, 10, 3, false))
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[1].addSheet: Sheet with id 77 already exists.")

	// Unsupported kinds, unknown spreadsheets and paths are reported.
	_, err = batch(svc, id, &sheets.Request{MergeCells: &sheets.MergeCellsRequest{MergeType: "MERGE_ALL", Range: &sheets.GridRange{EndRowIndex: 2, EndColumnIndex: 2}}})
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[0]: unknown or unsupported request kind for this fake: mergeCells")
	_, err = batch(svc, "nope", addSheet("A", 0, 1, 1, false))
	wantErr(t, err, 404, "NOT_FOUND", "Requested entity was not found.")
	_, err = svc.Spreadsheets.Values.Get(id, "Summary!A1").Do()
	wantErr(t, err, 404, "NOT_FOUND", "sheetsfake: GET /v4/spreadsheets/"+id+"/values/Summary!A1 is not implemented")
}

func TestUpdateCells(t *testing.T) {
	srv, svc, id := setup(t, "Summary")
	mustBatch(t, svc, id, updateCells(0, 1, 2, "userEnteredValue,userEnteredFormat.numberFormat", rows(
		[]*sheets.CellData{str("=SUM(A1:A2)"), str("+33"), num(46000, "DATE", "yyyy-mm-dd")},
		[]*sheets.CellData{boolean(true), formula("=C2+1"), num(0.25, "PERCENT", "0.0%")},
	)))
	sh := sheetOf(t, srv, id, "Summary")
	c := sh.Cells
	if c[1][2].Kind != "string" || c[1][2].String != "=SUM(A1:A2)" || c[1][3].Kind != "string" || c[1][3].String != "+33" {
		t.Errorf("strings = %+v %+v", c[1][2], c[1][3])
	}
	if c[1][4].Kind != "number" || c[1][4].Number != 46000 || c[1][4].FormatType != "DATE" || c[1][4].FormatPattern != "yyyy-mm-dd" {
		t.Errorf("date = %+v", c[1][4])
	}
	if c[2][2].Kind != "bool" || !c[2][2].Bool || c[2][3].Kind != "formula" || c[2][3].Formula != "=C2+1" {
		t.Errorf("bool/formula = %+v %+v", c[2][2], c[2][3])
	}

	// A value-only mask keeps the format; a range clears what rows don't cover.
	mustBatch(t, svc, id, updateCells(0, 1, 4, "userEnteredValue", rows([]*sheets.CellData{num(46001, "", "")})))
	if got := sheetOf(t, srv, id, "Summary").Cells[1][4]; got.Number != 46001 || got.FormatType != "DATE" {
		t.Errorf("value-only update = %+v", got)
	}
	mustBatch(t, svc, id, &sheets.Request{UpdateCells: &sheets.UpdateCellsRequest{
		Range: &sheets.GridRange{StartRowIndex: 2, EndRowIndex: 3}, Fields: "userEnteredValue"}})
	if got := sheetOf(t, srv, id, "Summary").Cells; len(got) != 3 || got[2][2].Kind != "" || got[2][4].FormatType != "PERCENT" {
		t.Errorf("after clearing row 3: %+v", got[2])
	}

	// Read back through the real client.
	ss, err := svc.Spreadsheets.Get(id).IncludeGridData(true).Ranges("Summary!A1:Z10").Do()
	if err != nil {
		t.Fatalf("get with grid data: %v", err)
	}
	_, err = svc.Spreadsheets.Get(id).Ranges("Nope!A1").Do()
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Unable to parse range: Nope!A1")
	rd := ss.Sheets[0].Data[0].RowData
	v := rd[1].Values[2]
	if *v.UserEnteredValue.StringValue != "=SUM(A1:A2)" || v.FormattedValue != "=SUM(A1:A2)" || v.UserEnteredValue.FormulaValue != nil {
		t.Errorf("read back C2 = %+v", v.UserEnteredValue)
	}
	if f := rd[1].Values[4].UserEnteredFormat; f == nil || f.NumberFormat.Type != "DATE" {
		t.Errorf("read back E2 format = %+v", f)
	}

	// Writes outside the grid or without a mask are rejected.
	_, err = batch(svc, id, updateCells(0, 999, 0, "userEnteredValue", rows([]*sheets.CellData{str("a")}, []*sheets.CellData{str("b")})))
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[0].updateCells: GridCoordinate.rowIndex[1000] is after last row in grid[999]")
	_, err = batch(svc, id, updateCells(0, 0, 25, "userEnteredValue", rows([]*sheets.CellData{str("a"), str("b")})))
	wantErr(t, err, 400, "INVALID_ARGUMENT", "GridCoordinate.columnIndex[26] is after last column in grid[25]")
	_, err = batch(svc, id, updateCells(0, 0, 0, "", rows([]*sheets.CellData{str("a")})))
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[0].updateCells: ")
	if got := sheetOf(t, srv, id, "Summary").Cells[0]; got[0].Kind != "" {
		t.Errorf("rejected writes changed A1: %+v", got[0])
	}
}

func TestCopyPasteFromHiddenSheet(t *testing.T) {
	srv, svc, id := setup(t, "Summary")
	mustBatch(t, svc, id, updateCells(0, 5, 0, "userEnteredValue,userEnteredFormat", rows(
		[]*sheets.CellData{str("old"), num(1, "NUMBER", "0.00")})))
	// Stage in a hidden sheet, copy it over Summary, drop the stage: one batch.
	staging := int64(4242)
	mustBatch(t, svc, id,
		addSheet("staging", staging, 10, 3, true),
		updateCells(staging, 0, 0, "userEnteredValue,userEnteredFormat.numberFormat", rows(
			[]*sheets.CellData{str("day"), str("revenue")},
			[]*sheets.CellData{num(46000, "DATE", "yyyy-mm-dd"), num(12.5, "NUMBER", "#,##0.00")},
		)),
		&sheets.Request{CopyPaste: &sheets.CopyPasteRequest{
			Source:      &sheets.GridRange{SheetId: staging},
			Destination: &sheets.GridRange{SheetId: 0, EndRowIndex: 1, EndColumnIndex: 1},
			PasteType:   "PASTE_NORMAL", PasteOrientation: "NORMAL",
		}},
		&sheets.Request{DeleteSheet: &sheets.DeleteSheetRequest{SheetId: staging}},
	)
	if got := titles(srv.Sheets(id)); got != "Summary" {
		t.Fatalf("sheets = %s", got)
	}
	c := sheetOf(t, srv, id, "Summary").Cells
	if len(c) != 2 || c[0][0].String != "day" || c[1][0].Number != 46000 || c[1][0].FormatType != "DATE" || c[1][1].FormatPattern != "#,##0.00" {
		t.Errorf("pasted = %+v", c)
	}
	// The source (10x3) was pasted whole: the old row 6 was cleared.

	// PASTE_VALUES keeps the destination formats.
	mustBatch(t, svc, id,
		updateCells(0, 0, 5, "userEnteredFormat", rows([]*sheets.CellData{num(0, "PERCENT", "0%")})),
		&sheets.Request{CopyPaste: &sheets.CopyPasteRequest{
			Source:      &sheets.GridRange{StartRowIndex: 1, EndRowIndex: 2, StartColumnIndex: 1, EndColumnIndex: 2},
			Destination: &sheets.GridRange{StartColumnIndex: 5},
			PasteType:   "PASTE_VALUES",
		}})
	// The unbounded destination (F1:Z1000) spans a multiple of the 1x1
	// source, so, as in Sheets, the value is repeated to fill it.
	sh := sheetOf(t, srv, id, "Summary")
	if got := sh.Cells[0][5]; got.Number != 12.5 || got.FormatType != "PERCENT" {
		t.Errorf("PASTE_VALUES = %+v", got)
	}
	if len(sh.Cells) != 1000 || sh.Cells[999][5].Number != 12.5 {
		t.Errorf("repeated paste: %d rows", len(sh.Cells))
	}

	// Pasting beyond the destination grid is rejected.
	mustBatch(t, svc, id, addSheet("small", 9, 2, 2, false))
	_, err := batch(svc, id, &sheets.Request{CopyPaste: &sheets.CopyPasteRequest{
		Source: &sheets.GridRange{EndRowIndex: 3, EndColumnIndex: 1}, Destination: &sheets.GridRange{SheetId: 9}}})
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[0].copyPaste: GridCoordinate.rowIndex[2] is after last row in grid[1]")
}

func TestRefusedBatchesChangeNothing(t *testing.T) {
	srv, svc, id := setup(t, "Summary")
	resp := mustBatch(t, svc, id, addSheet("stage", 0, 10, 3, true), updateCells(0, 0, 0, "userEnteredValue", rows([]*sheets.CellData{str("old")})))
	stage := resp.Replies[0].AddSheet.Properties.SheetId
	// A copyPaste to a missing sheet fails the whole batch: the resize and
	// the deletion before it are not applied.
	_, err := batch(svc, id,
		resize(0, 5, 0, "gridProperties.rowCount"),
		&sheets.Request{CopyPaste: &sheets.CopyPasteRequest{
			Source:      &sheets.GridRange{SheetId: stage, EndRowIndex: 1, EndColumnIndex: 1},
			Destination: &sheets.GridRange{SheetId: 4242, EndRowIndex: 1, EndColumnIndex: 1},
		}},
		&sheets.Request{DeleteSheet: &sheets.DeleteSheetRequest{SheetId: stage}})
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[1].copyPaste: No grid with id: 4242")
	if all := srv.Sheets(id); titles(all) != "Summary,stage" || all[0].RowCount != 1000 || all[0].Cells[0][0].String != "old" {
		t.Errorf("state after a refused batch: %s %+v", titles(all), all[0])
	}
	// Deleting the only visible sheet is refused while hidden ones remain.
	_, err = batch(svc, id, &sheets.Request{DeleteSheet: &sheets.DeleteSheetRequest{SheetId: 0, ForceSendFields: []string{"SheetId"}}})
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[0].deleteSheet: You can't hide all the sheets in a document.")
	// Duplicate titles are compared case-insensitively.
	_, err = batch(svc, id, addSheet("STAGE", 0, 1, 1, false))
	wantErr(t, err, 400, "INVALID_ARGUMENT", `A sheet with the name "STAGE" already exists.`)
	// A batch without requests is refused.
	_, err = batch(svc, id)
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Must specify at least one request.")
}

func TestFailAtFailsTheNthWrite(t *testing.T) {
	srv, svc, id := setup(t, "Summary")
	srv.FailAt(sheetsfake.IsWrite, 2, 500)
	if _, err := svc.Spreadsheets.Get(id).Do(); err != nil { // a read: not counted
		t.Fatal(err)
	}
	mustBatch(t, svc, id, addSheet("A", 0, 1, 1, false))
	_, err := batch(svc, id, addSheet("B", 0, 1, 1, false))
	wantErr(t, err, 500, "INTERNAL", "Internal error encountered.")
	mustBatch(t, svc, id, addSheet("C", 0, 1, 1, false))
	if got := titles(srv.Sheets(id)); got != "Summary,A,C" {
		t.Errorf("sheets = %s", got)
	}
	srv.FailNext(nil, 401, 1)
	_, err = svc.Spreadsheets.Get(id).Do()
	wantErr(t, err, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
}
