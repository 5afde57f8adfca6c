package sheets

import (
	"context"
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
