package sheetsfake_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/api/googleapi"
	sheets "google.golang.org/api/sheets/v4"

	"github.com/uptake-dev/uptake/connectors/sheets/sheetsfake"
)

func setup(t *testing.T, sheetTitles ...string) (*sheetsfake.Server, *sheets.Service, string) {
	t.Helper()
	srv := sheetsfake.New(t)
	svc, err := sheets.NewService(context.Background(), srv.ClientOptions()...)
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	return srv, svc, srv.CreateSpreadsheet("KPIs", sheetTitles...)
}

func batch(svc *sheets.Service, id string, reqs ...*sheets.Request) (*sheets.BatchUpdateSpreadsheetResponse, error) {
	return svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: reqs}).Context(context.Background()).Do()
}

func mustBatch(t *testing.T, svc *sheets.Service, id string, reqs ...*sheets.Request) *sheets.BatchUpdateSpreadsheetResponse {
	t.Helper()
	resp, err := batch(svc, id, reqs...)
	if err != nil {
		t.Fatalf("batchUpdate: %v", err)
	}
	return resp
}

// wantErr checks that err is a *googleapi.Error with that code whose
// message contains msg, and that the body carries Google's status name.
func wantErr(t *testing.T, err error, code int, status, msg string) {
	t.Helper()
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error = %v, want *googleapi.Error %d", err, code)
	}
	if ge.Code != code || !strings.Contains(ge.Message, msg) || !strings.Contains(ge.Body, `"status":"`+status+`"`) {
		t.Fatalf("error = %d %q (body %s), want %d %s containing %q", ge.Code, ge.Message, ge.Body, code, status, msg)
	}
}

// addSheet builds an addSheet request; id 0 is omitted on the wire, so
// the fake picks a random sheet ID.
func addSheet(title string, id int64, rows, cols int64, hidden bool) *sheets.Request {
	p := &sheets.SheetProperties{Title: title, SheetId: id, Hidden: hidden,
		GridProperties: &sheets.GridProperties{RowCount: rows, ColumnCount: cols}}
	return &sheets.Request{AddSheet: &sheets.AddSheetRequest{Properties: p}}
}

func str(s string) *sheets.CellData {
	return &sheets.CellData{UserEnteredValue: &sheets.ExtendedValue{StringValue: &s}}
}

func num(n float64, typ, pattern string) *sheets.CellData {
	d := &sheets.CellData{UserEnteredValue: &sheets.ExtendedValue{NumberValue: &n}}
	if typ != "" {
		d.UserEnteredFormat = &sheets.CellFormat{NumberFormat: &sheets.NumberFormat{Type: typ, Pattern: pattern}}
	}
	return d
}

func boolean(b bool) *sheets.CellData {
	return &sheets.CellData{UserEnteredValue: &sheets.ExtendedValue{BoolValue: &b}}
}

func formula(f string) *sheets.CellData {
	return &sheets.CellData{UserEnteredValue: &sheets.ExtendedValue{FormulaValue: &f}}
}

func rows(cells ...[]*sheets.CellData) []*sheets.RowData {
	var out []*sheets.RowData
	for _, r := range cells {
		out = append(out, &sheets.RowData{Values: r})
	}
	return out
}

func updateCells(sheetID, row, col int64, fields string, data []*sheets.RowData) *sheets.Request {
	return &sheets.Request{UpdateCells: &sheets.UpdateCellsRequest{
		Start:  &sheets.GridCoordinate{SheetId: sheetID, RowIndex: row, ColumnIndex: col},
		Fields: fields,
		Rows:   data,
	}}
}

func sheetOf(t *testing.T, srv *sheetsfake.Server, id, title string) *sheetsfake.Sheet {
	t.Helper()
	sh, ok := srv.Sheet(id, title)
	if !ok {
		t.Fatalf("sheet %q missing", title)
	}
	return sh
}

func countRequests(srv *sheetsfake.Server, method, suffix string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

func titles(ss []sheetsfake.Sheet) string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Title)
	}
	return strings.Join(out, ",")
}
