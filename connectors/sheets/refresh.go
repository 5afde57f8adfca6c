package sheets

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	gsheets "google.golang.org/api/sheets/v4"
)

const stagePrefix = "_uptake_stage_"

// ids are the sheetIds in use in a spreadsheet.
type ids map[int64]bool

// idsOf lists the sheetIds of tabs.
func idsOf(tabs map[string]tab) ids {
	used := ids{}
	for _, t := range tabs {
		used[t.id] = true
	}
	return used
}

// fresh picks a sheetId no tab uses, and marks it used.
func (used ids) fresh() int64 {
	for {
		id := rand.Int64N(1 << 30)
		if !used[id] && id != 0 {
			used[id] = true
			return id
		}
	}
}

// dropLeftovers deletes the staging tabs an interrupted run left.
func dropLeftovers(tabs map[string]tab) []*gsheets.Request {
	var reqs []*gsheets.Request
	for title, t := range tabs {
		if strings.HasPrefix(title, stagePrefix) {
			reqs = append(reqs, deleteSheet(t.id))
		}
	}
	return reqs
}

func deleteSheet(id int64) *gsheets.Request {
	return &gsheets.Request{DeleteSheet: &gsheets.DeleteSheetRequest{SheetId: id, ForceSendFields: []string{"SheetId"}}}
}

// addStaging adds the hidden staging tab of c, sized to its rows.
func addStaging(c *content) *gsheets.Request {
	return &gsheets.Request{AddSheet: &gsheets.AddSheetRequest{Properties: &gsheets.SheetProperties{
		SheetId: c.stageID, Title: stagePrefix + c.tab, Hidden: true, ForceSendFields: []string{"SheetId"},
		GridProperties: &gsheets.GridProperties{RowCount: c.rows, ColumnCount: c.ncols},
	}}}
}

// staged tells whether tabs hold the staging tab of every content and no
// other staging tab.
func staged(tabs map[string]tab, contents []*content) bool {
	for _, c := range contents {
		if t, ok := tabs[stagePrefix+c.tab]; !ok || t.id != c.stageID {
			return false
		}
	}
	n := 0
	for title := range tabs {
		if strings.HasPrefix(title, stagePrefix) {
			n++
		}
	}
	return n == len(contents)
}

// writeRows writes a tab's rows into its staging tab as they are read, in
// batchUpdates of one updateCells request each, under maxRequestBytes
// (Google refuses a body over 10 MB): many rows a request, or, for a row
// larger than that (wide rows of long text), pieces of one row. A cell
// holds at most 50,000 characters (checked before), at most ~300 kB of
// JSON, so every request stays under the budget whatever the table.
// Rewriting cells is idempotent: a write whose answer was lost is sent
// again.
func (d *Destination) writeRows(ctx context.Context, svc *gsheets.Service, stageID int64, rows rowStream, nrows int64) error {
	w := &stageWriter{ctx: ctx, d: d, svc: svc, stageID: stageID, budget: d.maxRequestBytes}
	if w.budget <= 0 {
		w.budget = maxRequestBytes
	}
	err := rows(w.add)
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		return err
	}
	if w.sent != nrows {
		return fmt.Errorf("%d rows read, %d expected: the table changed while it was published", w.sent, nrows)
	}
	return nil
}

// stageWriter buffers rows into requests under a budget of bytes.
type stageWriter struct {
	ctx         context.Context
	d           *Destination
	svc         *gsheets.Service
	stageID     int64
	budget      int
	buf         []*gsheets.RowData
	size        int
	start, sent int64 // the first row of buf; rows received
}

// add takes the next row.
func (w *stageWriter) add(r *gsheets.RowData) error {
	w.sent++
	b, _ := json.Marshal(r)
	if w.size+len(b) > w.budget {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if len(b) > w.budget {
		return w.writeWide(r)
	}
	w.buf = append(w.buf, r)
	w.size += len(b) + 1
	return nil
}

// flush writes the buffered rows.
func (w *stageWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if err := w.write(w.start, 0, w.buf); err != nil {
		return err
	}
	w.start += int64(len(w.buf))
	w.buf, w.size = nil, 0
	return nil
}

// writeWide writes one row too large for a request in pieces of columns.
func (w *stageWriter) writeWide(r *gsheets.RowData) error {
	var piece []*gsheets.CellData
	var col0 int64
	n := 0
	for j, c := range r.Values {
		b, _ := json.Marshal(c)
		if n+len(b) > w.budget && len(piece) > 0 {
			if err := w.write(w.start, col0, []*gsheets.RowData{{Values: piece}}); err != nil {
				return err
			}
			piece, col0, n = nil, int64(j), 0
		}
		piece = append(piece, c)
		n += len(b) + 1
	}
	if err := w.write(w.start, col0, []*gsheets.RowData{{Values: piece}}); err != nil {
		return err
	}
	w.start++
	return nil
}

// write sends rows to the staging tab from (row, col).
func (w *stageWriter) write(row, col int64, rows []*gsheets.RowData) error {
	req := &gsheets.Request{UpdateCells: &gsheets.UpdateCellsRequest{
		Rows:   rows,
		Fields: "userEnteredValue,userEnteredFormat.numberFormat",
		Start:  &gsheets.GridCoordinate{SheetId: w.stageID, RowIndex: row, ColumnIndex: col, ForceSendFields: []string{"SheetId", "RowIndex", "ColumnIndex"}},
	}}
	if err := w.d.batch(w.ctx, w.svc, []*gsheets.Request{req}, nil); err != nil {
		return fmt.Errorf("write staging tab: %w", err)
	}
	return nil
}

// swap is the part of the swap batchUpdate that puts c in place: resize
// the tab (or add it, with targetID), copy the staged cells into it and
// delete the staging tab.
func swap(c *content, t tab, exists bool, targetID int64) []*gsheets.Request {
	grid := &gsheets.GridProperties{RowCount: c.rows, ColumnCount: c.ncols, FrozenRowCount: 1, ForceSendFields: []string{"FrozenRowCount"}}
	if c.rows < 2 {
		grid.FrozenRowCount = 0 // Sheets refuses to freeze every row
	}
	var place *gsheets.Request
	if exists {
		fields := "gridProperties.rowCount,gridProperties.columnCount,gridProperties.frozenRowCount"
		if t.frozenColumn >= c.ncols { // a reader froze columns the new table no longer has
			grid.FrozenColumnCount = c.ncols - 1
			grid.ForceSendFields = append(grid.ForceSendFields, "FrozenColumnCount")
			fields += ",gridProperties.frozenColumnCount"
		}
		place = &gsheets.Request{UpdateSheetProperties: &gsheets.UpdateSheetPropertiesRequest{
			Properties: &gsheets.SheetProperties{SheetId: targetID, GridProperties: grid, ForceSendFields: []string{"SheetId"}},
			Fields:     fields,
		}}
	} else {
		place = &gsheets.Request{AddSheet: &gsheets.AddSheetRequest{Properties: &gsheets.SheetProperties{
			SheetId: targetID, Title: c.tab, GridProperties: grid, ForceSendFields: []string{"SheetId"},
		}}}
	}
	return []*gsheets.Request{place,
		{CopyPaste: &gsheets.CopyPasteRequest{
			Source:      gridRange(c.stageID, c.rows, c.ncols),
			Destination: gridRange(targetID, c.rows, c.ncols),
			PasteType:   "PASTE_NORMAL",
		}},
		deleteSheet(c.stageID),
	}
}

// swapped tells whether tabs show c in place (with targetID) and its
// staging tab gone.
func swapped(tabs map[string]tab, c *content, targetID int64) bool {
	_, stagedLeft := tabs[stagePrefix+c.tab]
	t, ok := tabs[c.tab]
	return !stagedLeft && ok && t.id == targetID && t.rows == c.rows && t.cols == c.ncols
}

func gridRange(id, rows, cols int64) *gsheets.GridRange {
	return &gsheets.GridRange{SheetId: id, StartRowIndex: 0, EndRowIndex: rows, StartColumnIndex: 0, EndColumnIndex: cols,
		ForceSendFields: []string{"SheetId", "StartRowIndex", "StartColumnIndex"}}
}

// batch sends one batchUpdate, retrying on 429, 5xx and network errors.
// A batch that must not be applied twice (adding or deleting tabs) passes
// done: before each new try it tells whether an earlier try took effect
// although its answer was lost, and then the batch is not sent again.
func (d *Destination) batch(ctx context.Context, svc *gsheets.Service, reqs []*gsheets.Request, done func() bool) error {
	tries := 0
	return d.backoff.Do(ctx, "batchUpdate", retryable, func(ctx context.Context) error {
		if tries++; tries > 1 && done != nil && done() {
			return nil
		}
		if wait := time.Until(d.lastWrite.Add(d.writeGap)); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		d.lastWrite = time.Now()
		_, err := svc.Spreadsheets.BatchUpdate(d.spec.SpreadsheetID, &gsheets.BatchUpdateSpreadsheetRequest{Requests: reqs}).Context(ctx).Do()
		return err
	})
}

// after tells, from a fresh read of the tabs, whether ok holds (false when
// the spreadsheet cannot be read).
func (d *Destination) after(ctx context.Context, svc *gsheets.Service, ok func(map[string]tab) bool) func() bool {
	return func() bool {
		tabs, err := d.tabs(ctx, svc)
		return err == nil && ok(tabs)
	}
}
