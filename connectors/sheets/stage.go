package sheets

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	gsheets "google.golang.org/api/sheets/v4"
)

// envelope is the JSON of a batchUpdate's body around its requests:
// {"requests":[…]} and the newline the client's encoder ends it with.
const envelope = len(`{"requests":[]}`) + 1

// stage fills the staging tabs of contents in as few batchUpdates as fit
// under the byte budget: head first (removing leftovers, adding the
// staging tabs), then the rows of every tab in order, header first, the
// rows of several tabs in one batchUpdate and a tab larger than one across
// several. It returns the number of batchUpdates sent.
func (d *Destination) stage(ctx context.Context, svc *gsheets.Service, conn *sql.Conn, head []*gsheets.Request, contents []*content) (int, error) {
	s := &stager{ctx: ctx, d: d, svc: svc, budget: d.maxRequestBytes}
	if s.budget <= 0 {
		s.budget = maxRequestBytes
	}
	s.reset()
	for _, r := range head {
		if err := s.add(r); err != nil {
			return s.sent, err
		}
	}
	for _, c := range contents {
		if err := s.tab(c, c.stream(ctx, conn)); err != nil {
			return s.sent, err
		}
	}
	err := s.flush()
	return s.sent, err
}

// stager packs requests into batchUpdates whose JSON bodies stay under
// budget bytes. Sizes are counted from each request's JSON, never less
// than the client sends.
type stager struct {
	ctx    context.Context
	d      *Destination
	svc    *gsheets.Service
	budget int
	sent   int // batchUpdates sent
	p      pending
}

// pending is the batchUpdate being filled.
type pending struct {
	reqs        []*gsheets.Request
	size        int      // bytes of its body, at most
	adds, drops []int64  // sheetIds of the tabs it adds and deletes
	tabs        []string // tabs it writes rows of, for messages
	// seg is its last request while more rows can be appended to it: the
	// rows of tab segID from column 0, the next one being row next.
	seg   *gsheets.UpdateCellsRequest
	segID int64
	next  int64
}

func (s *stager) reset() { s.p = pending{size: envelope} }

// room tells whether n more bytes fit in the pending batch.
func (s *stager) room(n int) bool { return s.p.size+n <= s.budget }

// add queues a request other than rows (adding or deleting a tab, a
// number format), sending the pending batch first when the request does
// not fit in it.
func (s *stager) add(r *gsheets.Request) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode a request: %w", err)
	}
	if !s.room(len(b)+1) && len(s.p.reqs) > 0 {
		if err := s.flush(); err != nil {
			return err
		}
	}
	s.p.reqs = append(s.p.reqs, r)
	s.p.size += len(b) + 1
	s.p.seg = nil
	if r.AddSheet != nil {
		s.p.adds = append(s.p.adds, r.AddSheet.Properties.SheetId)
	}
	if r.DeleteSheet != nil {
		s.p.drops = append(s.p.drops, r.DeleteSheet.SheetId)
	}
	return nil
}

// tab queues the number formats and the rows of c for its staging tab,
// the rows as they are read, and checks that they are the rows planned.
func (s *stager) tab(c *content, rows rowStream) error {
	for _, r := range formats(c) {
		if err := s.add(r); err != nil {
			return err
		}
	}
	var n int64
	err := rows(func(r *gsheets.RowData) error {
		n++
		if c.byColumn() {
			valuesOnly(r)
		}
		return s.row(c, n-1, r)
	})
	if err != nil {
		return fmt.Errorf("tab %s: %w", c.tab, err)
	}
	if n != c.rows {
		return fmt.Errorf("tab %s: %d rows read, %d expected: the table changed while it was published", c.tab, n, c.rows)
	}
	return nil
}

// row queues row i of c's staging tab: appended to the batch's last
// request when that one writes the row above, else in a request of its
// own, in this batch when it fits, else in the next; a row larger than
// a batch goes in pieces of columns.
func (s *stager) row(c *content, i int64, r *gsheets.RowData) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode row %d: %w", i, err)
	}
	n := len(b) + 1
	if s.p.seg != nil && s.p.segID == c.stageID && s.p.next == i && s.room(n) {
		s.p.seg.Rows = append(s.p.seg.Rows, r)
		s.p.size += n
		s.p.next++
		return nil
	}
	if !s.fits(c, i, 0, n) {
		if err := s.flush(); err != nil {
			return err
		}
	}
	if !s.fits(c, i, 0, n) {
		return s.wide(c, i, r)
	}
	s.put(c, i, 0, r, n)
	return nil
}

// fits tells whether a request writing n bytes of row JSON from (row,
// col) of c's staging tab fits in the pending batch.
func (s *stager) fits(c *content, row, col int64, n int) bool {
	return s.room(overhead(writeCells(c, row, col)) + n)
}

// put queues the cells of r, of n bytes of JSON, as a request writing
// them from (row, col) of c's staging tab.
func (s *stager) put(c *content, row, col int64, r *gsheets.RowData, n int) {
	req := writeCells(c, row, col)
	s.p.size += overhead(req) + n
	req.UpdateCells.Rows = []*gsheets.RowData{r}
	s.p.reqs = append(s.p.reqs, req)
	if k := len(s.p.tabs); k == 0 || s.p.tabs[k-1] != c.tab {
		s.p.tabs = append(s.p.tabs, c.tab)
	}
	s.p.seg, s.p.segID, s.p.next = nil, 0, 0
	if col == 0 {
		s.p.seg, s.p.segID, s.p.next = req.UpdateCells, c.stageID, row+1
	}
}

// wide queues a row too large for one batch in pieces of columns, each
// in a batch of its own (the pending one is empty when it starts). A
// cell holds at most 50,000 characters (checked before), at most ~300 kB
// of JSON: a piece stays under the budget whatever the table.
func (s *stager) wide(c *content, i int64, r *gsheets.RowData) error {
	const empty = len(`{"values":[]}`)
	var piece []*gsheets.CellData
	var col0 int64
	size := empty
	for j, v := range r.Values {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode row %d: %w", i, err)
		}
		if len(piece) > 0 && !s.fits(c, i, col0, size+len(b)+1) {
			s.put(c, i, col0, &gsheets.RowData{Values: piece}, size)
			if err := s.flush(); err != nil {
				return err
			}
			piece, col0, size = nil, int64(j), empty
		}
		piece = append(piece, v)
		size += len(b) + 1
	}
	s.put(c, i, col0, &gsheets.RowData{Values: piece}, size)
	return nil
}

// writeCells is a request writing rows into c's staging tab from (row,
// col), its rows still to add: their values, and their number formats
// when the tab has none by column.
func writeCells(c *content, row, col int64) *gsheets.Request {
	fields := "userEnteredValue,userEnteredFormat.numberFormat"
	if c.byColumn() {
		fields = "userEnteredValue"
	}
	return &gsheets.Request{UpdateCells: &gsheets.UpdateCellsRequest{
		Fields: fields,
		Start:  &gsheets.GridCoordinate{SheetId: c.stageID, RowIndex: row, ColumnIndex: col, ForceSendFields: []string{"SheetId", "RowIndex", "ColumnIndex"}},
	}}
}

// formats sets the number format of c's data rows in its staging tab,
// one repeatCell per run of adjacent columns of one format, when the tab
// has its formats by column: its rows then carry values only, half the
// bytes of cells that each repeat their column's format.
func formats(c *content) []*gsheets.Request {
	if !c.byColumn() || c.rows < 2 {
		return nil
	}
	var reqs []*gsheets.Request
	for j := 0; j < len(c.cols); {
		k := j + 1
		for k < len(c.cols) && sameFormat(c.cols[k].format, c.cols[j].format) {
			k++
		}
		if f := c.cols[j].format; f != nil {
			reqs = append(reqs, &gsheets.Request{RepeatCell: &gsheets.RepeatCellRequest{
				Range: &gsheets.GridRange{SheetId: c.stageID, StartRowIndex: 1, EndRowIndex: c.rows, StartColumnIndex: int64(j), EndColumnIndex: int64(k),
					ForceSendFields: []string{"SheetId", "StartColumnIndex"}},
				Cell:   &gsheets.CellData{UserEnteredFormat: &gsheets.CellFormat{NumberFormat: f}},
				Fields: "userEnteredFormat.numberFormat",
			}})
		}
		j = k
	}
	return reqs
}

func sameFormat(a, b *gsheets.NumberFormat) bool {
	return a == b || a != nil && b != nil && a.Type == b.Type && a.Pattern == b.Pattern
}

// valuesOnly drops the number formats of a row's cells (set by column).
func valuesOnly(r *gsheets.RowData) {
	for _, v := range r.Values {
		v.UserEnteredFormat = nil
	}
}

// overhead is the JSON bytes of a request writing cells, without its
// rows: the request, its "rows":[] and the comma after it in the batch.
func overhead(req *gsheets.Request) int {
	b, _ := json.Marshal(req) // plain strings and numbers: cannot fail
	return len(b) + len(`,"rows":[]`) + 1
}

// flush sends the pending batch, if any. A batch adding or deleting tabs
// is not sent again when an earlier try took effect although its answer
// was lost; one that only writes cells and formats is idempotent, and is
// sent again.
func (s *stager) flush() error {
	p := s.p
	if len(p.reqs) == 0 {
		return nil
	}
	s.reset()
	var done func() bool
	if len(p.adds)+len(p.drops) > 0 {
		done = s.d.after(s.ctx, s.svc, func(t map[string]tab) bool { return applied(t, p.adds, p.drops) })
	}
	if err := s.d.batch(s.ctx, s.svc, p.reqs, done); err != nil {
		return fmt.Errorf("%s: %w", p.what(), err)
	}
	s.sent++
	return nil
}

// what says what a batch does, for errors.
func (p *pending) what() string {
	var parts []string
	switch {
	case len(p.adds) > 0:
		parts = append(parts, "create staging tabs")
	case len(p.drops) > 0:
		parts = append(parts, "remove the staging tabs an interrupted run left")
	}
	if len(p.tabs) > 0 {
		parts = append(parts, "write the staged rows of "+strings.Join(p.tabs, ", "))
	}
	return strings.Join(parts, " and ")
}

// applied tells whether tabs show a batch's effect: the tabs it adds
// there, those it deletes gone. The sheetIds it adds are fresh, so they
// are there only if that batch (which Google applies whole or not at
// all) was applied.
func applied(tabs map[string]tab, adds, drops []int64) bool {
	have := map[int64]bool{}
	for _, t := range tabs {
		have[t.id] = true
	}
	for _, id := range adds {
		if !have[id] {
			return false
		}
	}
	for _, id := range drops {
		if have[id] {
			return false
		}
	}
	return true
}
