package sheets

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	gsheets "google.golang.org/api/sheets/v4"
)

const stagePrefix = "_uptake_stage_"

// refresh writes rows into a hidden staging tab, then in one batchUpdate
// resizes the target tab (creating it if needed), copies the staged cells
// into it and deletes the staging tab. It returns the tab's sheetId.
func (d *Destination) refresh(ctx context.Context, svc *gsheets.Service, name string, t tab, exists bool, rows rowStream, nrows, cols int64, all map[string]tab) (int64, error) {
	stageName := stagePrefix + name
	stageID := freeID(all)
	var prep []*gsheets.Request
	if old, ok := all[stageName]; ok { // left by an interrupted run
		prep = append(prep, &gsheets.Request{DeleteSheet: &gsheets.DeleteSheetRequest{SheetId: old.id}})
		delete(all, stageName)
	}
	prep = append(prep, &gsheets.Request{AddSheet: &gsheets.AddSheetRequest{Properties: &gsheets.SheetProperties{
		SheetId: stageID, Title: stageName, Hidden: true, ForceSendFields: []string{"SheetId"},
		GridProperties: &gsheets.GridProperties{RowCount: nrows, ColumnCount: cols},
	}}})
	stagedReady := func() bool { t, ok := d.lookup(ctx, svc, stageName); return ok && t.id == stageID }
	if err := d.batch(ctx, svc, prep, stagedReady); err != nil {
		return 0, fmt.Errorf("create staging tab: %w", err)
	}
	all[stageName] = tab{id: stageID, rows: nrows, cols: cols}
	// Rows go to the staging tab as they are read, in batchUpdates of one
	// updateCells request each, under maxRequestBytes (Google refuses a
	// body over 10 MB): many rows a request, or, for a row larger than that
	// (wide rows of long text), pieces of one row. A cell holds at most
	// 50,000 characters (checked before), at most ~300 kB of JSON, so every
	// request stays under the budget whatever the table.
	budget := d.maxRequestBytes
	if budget <= 0 {
		budget = maxRequestBytes
	}
	write := func(row, col int64, rows []*gsheets.RowData) error {
		req := &gsheets.Request{UpdateCells: &gsheets.UpdateCellsRequest{
			Rows:   rows,
			Fields: "userEnteredValue,userEnteredFormat.numberFormat",
			Start:  &gsheets.GridCoordinate{SheetId: stageID, RowIndex: row, ColumnIndex: col, ForceSendFields: []string{"SheetId", "RowIndex", "ColumnIndex"}},
		}}
		if err := d.batch(ctx, svc, []*gsheets.Request{req}, nil); err != nil { // rewriting cells is idempotent
			return fmt.Errorf("write staging tab: %w", err)
		}
		return nil
	}
	var buf []*gsheets.RowData
	var start, sent int64
	size := 0
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if err := write(start, 0, buf); err != nil {
			return err
		}
		start += int64(len(buf))
		buf, size = nil, 0
		return nil
	}
	// writeWide writes one row too large for a request in pieces of columns.
	writeWide := func(r *gsheets.RowData) error {
		var piece []*gsheets.CellData
		var col0 int64
		n := 0
		for j, c := range r.Values {
			b, _ := json.Marshal(c)
			if n+len(b) > budget && len(piece) > 0 {
				if err := write(start, col0, []*gsheets.RowData{{Values: piece}}); err != nil {
					return err
				}
				piece, col0, n = nil, int64(j), 0
			}
			piece = append(piece, c)
			n += len(b) + 1
		}
		if err := write(start, col0, []*gsheets.RowData{{Values: piece}}); err != nil {
			return err
		}
		start++
		return nil
	}
	err := rows(func(r *gsheets.RowData) error {
		sent++
		b, _ := json.Marshal(r)
		if size+len(b) > budget {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(b) > budget {
			return writeWide(r)
		}
		buf = append(buf, r)
		size += len(b) + 1
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return 0, err
	}
	if sent != nrows {
		return 0, fmt.Errorf("%d rows read, %d expected: the table changed while it was published", sent, nrows)
	}
	// The swap: one batchUpdate, applied all or nothing.
	targetID := t.id
	var swap []*gsheets.Request
	grid := &gsheets.GridProperties{RowCount: nrows, ColumnCount: cols, FrozenRowCount: 1, ForceSendFields: []string{"FrozenRowCount"}}
	if nrows < 2 {
		grid.FrozenRowCount = 0 // Sheets refuses to freeze every row
	}
	if exists {
		fields := "gridProperties.rowCount,gridProperties.columnCount,gridProperties.frozenRowCount"
		if t.frozenColumn >= cols { // a reader froze columns the new table no longer has
			grid.FrozenColumnCount = cols - 1
			grid.ForceSendFields = append(grid.ForceSendFields, "FrozenColumnCount")
			fields += ",gridProperties.frozenColumnCount"
		}
		swap = append(swap, &gsheets.Request{UpdateSheetProperties: &gsheets.UpdateSheetPropertiesRequest{
			Properties: &gsheets.SheetProperties{SheetId: targetID, GridProperties: grid, ForceSendFields: []string{"SheetId"}},
			Fields:     fields,
		}})
	} else {
		targetID = freeID(all)
		swap = append(swap, &gsheets.Request{AddSheet: &gsheets.AddSheetRequest{Properties: &gsheets.SheetProperties{
			SheetId: targetID, Title: name, GridProperties: grid, ForceSendFields: []string{"SheetId"},
		}}})
	}
	swap = append(swap,
		&gsheets.Request{CopyPaste: &gsheets.CopyPasteRequest{
			Source:      gridRange(stageID, nrows, cols),
			Destination: gridRange(targetID, nrows, cols),
			PasteType:   "PASTE_NORMAL",
		}},
		&gsheets.Request{DeleteSheet: &gsheets.DeleteSheetRequest{SheetId: stageID, ForceSendFields: []string{"SheetId"}}},
	)
	swapped := func() bool {
		_, staged := d.lookup(ctx, svc, stageName)
		t, ok := d.lookup(ctx, svc, name)
		return !staged && ok && t.id == targetID && t.rows == nrows && t.cols == cols
	}
	if err := d.batch(ctx, svc, swap, swapped); err != nil {
		return 0, fmt.Errorf("swap in the staged rows: %w", err)
	}
	delete(all, stageName)
	return targetID, nil
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
	return d.backoff.Do(ctx, "batchUpdate", retryable, func() error {
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

// lookup reads one tab's properties (false when absent or unreadable).
func (d *Destination) lookup(ctx context.Context, svc *gsheets.Service, title string) (tab, bool) {
	tabs, err := d.tabs(ctx, svc)
	if err != nil {
		return tab{}, false
	}
	t, ok := tabs[title]
	return t, ok
}

// freeID picks a sheetId no tab uses.
func freeID(all map[string]tab) int64 {
	used := map[int64]bool{}
	for _, t := range all {
		used[t.id] = true
	}
	for {
		id := rand.Int64N(1 << 30)
		if !used[id] && id != 0 {
			return id
		}
	}
}
