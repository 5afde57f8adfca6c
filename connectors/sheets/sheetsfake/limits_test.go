package sheetsfake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	sheets "google.golang.org/api/sheets/v4"

	"github.com/uptake-dev/uptake/connectors/sheets/sheetsfake"
)

func resize(sheetID, rowCount, frozen int64, fields string) *sheets.Request {
	return &sheets.Request{UpdateSheetProperties: &sheets.UpdateSheetPropertiesRequest{
		Properties: &sheets.SheetProperties{SheetId: sheetID,
			GridProperties: &sheets.GridProperties{RowCount: rowCount, FrozenRowCount: frozen}},
		Fields: fields,
	}}
}

func TestShrinkFreezeAndDimensions(t *testing.T) {
	srv, svc, id := setup(t, "Summary")
	var data [][]*sheets.CellData
	for i := range 10 {
		data = append(data, []*sheets.CellData{num(float64(i), "", ""), str("x")})
	}
	mustBatch(t, svc, id, updateCells(0, 0, 0, "userEnteredValue", rows(data...)))

	mustBatch(t, svc, id, resize(0, 5, 1, "gridProperties.rowCount,gridProperties.frozenRowCount"))
	sh := sheetOf(t, srv, id, "Summary")
	if sh.RowCount != 5 || sh.FrozenRowCount != 1 || len(sh.Cells) != 5 || sh.Cells[4][0].Number != 4 {
		t.Errorf("after shrink: rows %d frozen %d cells %d", sh.RowCount, sh.FrozenRowCount, len(sh.Cells))
	}
	_, err := batch(svc, id, resize(0, 0, 5, "gridProperties.frozenRowCount"))
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[0].updateSheetProperties: You can't freeze all visible rows on the sheet.")

	// deleteDimension shifts the cells up; appendDimension grows the grid.
	mustBatch(t, svc, id,
		&sheets.Request{DeleteDimension: &sheets.DeleteDimensionRequest{Range: &sheets.DimensionRange{
			Dimension: "ROWS", StartIndex: 1, EndIndex: 3}}},
		&sheets.Request{DeleteDimension: &sheets.DeleteDimensionRequest{Range: &sheets.DimensionRange{
			Dimension: "COLUMNS", StartIndex: 0, EndIndex: 1}}},
		&sheets.Request{AppendDimension: &sheets.AppendDimensionRequest{Dimension: "ROWS", Length: 7}},
	)
	sh = sheetOf(t, srv, id, "Summary")
	if sh.RowCount != 10 || sh.ColumnCount != 25 || len(sh.Cells) != 3 || len(sh.Cells[0]) != 1 || sh.Cells[2][0].String != "x" {
		t.Errorf("after dimensions: %dx%d %+v", sh.RowCount, sh.ColumnCount, sh.Cells)
	}
	_, err = batch(svc, id, &sheets.Request{DeleteDimension: &sheets.DeleteDimensionRequest{Range: &sheets.DimensionRange{Dimension: "ROWS"}}})
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[0].deleteDimension: You can't delete all the rows on the sheet.")
}

func TestCellLimit(t *testing.T) {
	srv, svc, id := setup(t, "Summary") // 1000x26 = 26,000 cells
	// Exactly at the limit is allowed.
	resp := mustBatch(t, svc, id, addSheet("big", 0, 4_987_000, 2, false))
	big := resp.Replies[0].AddSheet.Properties.SheetId
	_, err := batch(svc, id,
		&sheets.Request{DeleteSheet: &sheets.DeleteSheetRequest{SheetId: big}},
		addSheet("other", 0, 1, 1, false),
		addSheet("huge", 0, 5_000_000, 2, false))
	wantErr(t, err, 400, "INVALID_ARGUMENT",
		"Invalid requests[2].addSheet: This action would increase the number of cells in the workbook above the limit of 10000000 cells.")
	// Requests are applied in order and each is checked: a sheet that goes
	// over the limit is rejected even if a later request of the batch
	// would bring the total back under it.
	_, err = batch(svc, id,
		addSheet("staging", 0, 1000, 26, false),
		&sheets.Request{DeleteSheet: &sheets.DeleteSheetRequest{SheetId: big}})
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[0].addSheet: This action would increase the number of cells")
	_, err = batch(svc, id, &sheets.Request{AppendDimension: &sheets.AppendDimensionRequest{SheetId: big, Dimension: "COLUMNS", Length: 1}})
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[0].appendDimension: This action would increase the number of cells")
	if got := srv.Sheets(id); titles(got) != "Summary,big" || got[1].RowCount != 4_987_000 || got[1].ColumnCount != 2 {
		t.Errorf("state after rejected batches: %s %+v", titles(got), got[1])
	}
	// Shrinking is always allowed.
	mustBatch(t, svc, id, resize(big, 10, 0, "gridProperties.rowCount"))
}

func TestPayloadAndCellSize(t *testing.T) {
	srv, svc, id := setup(t, "Summary")
	_, err := batch(svc, id, updateCells(0, 0, 0, "userEnteredValue", rows([]*sheets.CellData{str(strings.Repeat("é", sheetsfake.MaxCellChars+1))})))
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Invalid requests[0].updateCells: Your input contains more than the maximum of 50000 characters in a single cell.")
	mustBatch(t, svc, id, updateCells(0, 0, 0, "userEnteredValue", rows([]*sheets.CellData{str(strings.Repeat("é", sheetsfake.MaxCellChars))})))

	srv.SetMaxRequestBytes(2000)
	_, err = batch(svc, id, updateCells(0, 1, 0, "userEnteredValue", rows([]*sheets.CellData{str(strings.Repeat("a", 3000))})))
	wantErr(t, err, 400, "INVALID_ARGUMENT", "Request payload size exceeds the limit: 2000 bytes.")
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; len(last.Body) <= 3000 {
		t.Errorf("logged body bytes = %d", len(last.Body))
	}
	if c := sheetOf(t, srv, id, "Summary").Cells; len(c) != 1 {
		t.Errorf("oversized request changed the sheet: %d rows", len(c))
	}
}

// TestFailNextNoRetry documents what google.golang.org/api v0.312.0's
// generated Sheets client does with transient errors: nothing. Both
// spreadsheets.get and spreadsheets.batchUpdate are sent with
// gensupport.SendRequest, which has no retry loop (unlike the storage or
// bigquery clients, which use SendRequestWithRetry), so a 429
// RESOURCE_EXHAUSTED, 500 INTERNAL or 503 UNAVAILABLE is returned to the
// caller after exactly one HTTP request. Retrying with backoff, as Google
// recommends for 429, is the caller's job.
func TestFailNextNoRetry(t *testing.T) {
	srv, svc, id := setup(t, "Summary")
	isBatch := func(r sheetsfake.Request) bool { return strings.HasSuffix(r.Path, ":batchUpdate") }

	srv.FailNext(isBatch, 429, 1)
	start := time.Now()
	_, err := batch(svc, id, addSheet("A", 0, 1, 1, false))
	wantErr(t, err, 429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Write requests'")
	if n := countRequests(srv, "POST", ":batchUpdate"); n != 1 {
		t.Errorf("batchUpdate attempts after 429 = %d, want 1 (no client retry)", n)
	}
	if titles(srv.Sheets(id)) != "Summary" {
		t.Errorf("failed request had an effect: %s", titles(srv.Sheets(id)))
	}
	t.Logf("429 returned after %v", time.Since(start).Round(time.Millisecond))

	srv.FailNext(nil, 503, 1)
	srv.FailNext(isBatch, 500, 1)
	_, err = svc.Spreadsheets.Get(id).Context(context.Background()).Do()
	wantErr(t, err, 503, "UNAVAILABLE", "The service is currently unavailable.")
	_, err = batch(svc, id, addSheet("A", 0, 1, 1, false))
	wantErr(t, err, 500, "INTERNAL", "Internal error encountered.")
	if n := countRequests(srv, "GET", id); n != 1 {
		t.Errorf("get attempts after 503 = %d, want 1", n)
	}
	if n := countRequests(srv, "POST", ":batchUpdate"); n != 2 {
		t.Errorf("batchUpdate attempts = %d, want 2", n)
	}
	// Rules are used up: the next call succeeds.
	mustBatch(t, svc, id, addSheet("A", 0, 1, 1, false))
}
