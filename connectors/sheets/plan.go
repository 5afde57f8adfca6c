package sheets

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"

	gsheets "google.golang.org/api/sheets/v4"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
)

// content is one tab of a run (an output table's, or _meta): what it holds
// and its grid.
type content struct {
	table, tab string // table is "" for _meta
	what       string // "table X (tab Y)", for messages
	cols       []column
	ncols      int64
	rows       int64 // rows written, the header included
	total      int64 // data rows in the table (rows-1 unless max_rows cut)
	pick       selection
	cut        int64              // cells over maxCellChars, cut (truncate_long_text)
	meta       []*gsheets.RowData // the rows of _meta
	stageID    int64              // its staging tab (set when staged)
}

// byColumn tells whether the tab's number formats are set by column (a
// table's: one format a column) rather than by cell (_meta's).
func (c *content) byColumn() bool { return c.meta == nil }

// cells is the size of the tab's grid.
func (c *content) cells() int64 { return c.rows * c.ncols }

// stream hands the tab's rows, header first.
func (c *content) stream(ctx context.Context, conn *sql.Conn) rowStream {
	if c.meta != nil {
		return sliceStream(c.meta)
	}
	rows := streamRows(ctx, conn, c.cols, c.pick)
	if c.cut > 0 {
		rows = cutLongText(rows)
	}
	return rows
}

// Plan checks, with read requests only, that the spreadsheet can take the
// run's tables: the tabs setting, the text of every cell, the credentials,
// that the spreadsheet exists and can be read, and its 10 million cells
// with every staging copy the refresh needs. Nothing is written.
func (d *Destination) Plan(ctx context.Context, conn *sql.Conn, run connectors.Run, out connectors.Published) (connectors.Publication, error) {
	ctx = withLogger(ctx, run)
	contents, err := d.contents(ctx, conn, run, out)
	if err != nil {
		return nil, err // before any request
	}
	svc, err := d.service(ctx)
	if err != nil {
		return nil, err
	}
	tabs, err := d.tabs(ctx, svc)
	if err != nil {
		return nil, err
	}
	if err := checkTitles(tabs, contents); err != nil {
		return nil, err
	}
	if err := checkCells(tabs, contents, d.spec.Refresh); err != nil {
		return nil, err
	}
	return &publication{d: d, conn: conn, run: run, svc: svc, contents: contents}, nil
}

// contents sizes every tab of the run from row counts and measures its
// text: the limits of a tab are checked before any request.
func (d *Destination) contents(ctx context.Context, conn *sql.Conn, run connectors.Run, out connectors.Published) ([]*content, error) {
	tables, err := d.tables(out.Tables)
	if err != nil {
		return nil, err
	}
	var contents []*content
	written := map[string]int64{}
	for _, table := range tables {
		c, err := d.tableContent(ctx, conn, table)
		if err != nil {
			return nil, err
		}
		written[c.tab] = c.rows - 1
		contents = append(contents, c)
	}
	meta := metaRows(run, out, written)
	contents = append(contents, &content{tab: MetaTab, what: "the _meta tab", meta: meta, ncols: 2, rows: int64(len(meta)), total: int64(len(meta) - 1)})
	for _, c := range contents {
		if err := checkGrid(c); err != nil {
			return nil, err
		}
	}
	return contents, nil
}

// tableContent picks and measures one table's rows.
func (d *Destination) tableContent(ctx context.Context, conn *sql.Conn, table string) (*content, error) {
	cols, err := columnsOf(ctx, conn, table)
	if err != nil {
		return nil, err
	}
	picked, err := selectRows(ctx, conn, table, cols, d.spec.MaxRows)
	if err != nil {
		return nil, err
	}
	c := &content{table: table, tab: d.tabName(table), cols: cols, ncols: int64(len(cols)), rows: picked.rows + 1, total: picked.total, pick: picked}
	c.what = fmt.Sprintf("table %s (tab %s)", table, c.tab)
	if c.cut, err = checkText(ctx, conn, c.what, cols, picked, d.spec.TruncateLongText); err != nil {
		return nil, err
	}
	return c, nil
}

// checkGrid checks one tab against the limits of a tab.
func checkGrid(c *content) error {
	if c.ncols > maxColumns {
		return fmt.Errorf("%s has %d columns, above the %d columns of a Google Sheets tab: publish it to BigQuery", c.what, c.ncols, maxColumns)
	}
	if n := c.cells(); n > maxCells {
		return fmt.Errorf("%s would hold %d rows × %d columns = %d cells, above the %d cells of a Google spreadsheet: set max_rows, or read it from BigQuery",
			c.what, c.rows, c.ncols, n, maxCells)
	}
	return nil
}

// checkTitles fails when a tab of the run would clash with a tab of
// another case (Google compares titles case-insensitively and would refuse
// to add it).
func checkTitles(tabs map[string]tab, contents []*content) error {
	for _, c := range contents {
		if _, ok := tabs[c.tab]; ok {
			continue
		}
		for title := range tabs {
			if strings.EqualFold(title, c.tab) {
				return fmt.Errorf("%s: the spreadsheet has a tab %q, and Google Sheets tells tab names apart regardless of case: rename that tab, or name another in tabs", c.what, title)
			}
		}
	}
	return nil
}

// checkCells fails when the spreadsheet would pass Google's 10 million
// cells at any moment of the refresh, counting every tab of the spreadsheet
// (ours, the readers' own tabs; staging tabs an interrupted run left are
// removed first). Google checks the limit after each request of a batch.
func checkCells(tabs map[string]tab, contents []*content, refresh string) error {
	base := int64(0)
	for title, t := range tabs {
		if !strings.HasPrefix(title, stagePrefix) {
			base += t.rows * t.cols
		}
	}
	oneByOne, full := peakTabByTab(base, tabs, contents)
	if refresh == TabByTab {
		if full == nil {
			return nil
		}
		return fmt.Errorf("the spreadsheet would need %d cells while refreshing %s (%d × %d, with its staging copy and every other tab of the spreadsheet), above the %d cells Google allows: set max_rows, drop tabs, or use another spreadsheet",
			oneByOne, full.what, full.rows, full.ncols, maxCells)
	}
	staged, atOnce := peakAllAtOnce(base, tabs, contents)
	if atOnce <= maxCells {
		return nil
	}
	need := fmt.Sprintf("the spreadsheet would need %d cells to refresh every tab at once (%d in its tabs now, %d in the staging copies of the run's %d tabs, and each tab's new size during the swap), above the %d cells Google allows",
		atOnce, base, staged, len(contents), maxCells)
	if full != nil {
		return fmt.Errorf("%s, and %d while refreshing %s even one tab after the other: set max_rows, drop tabs, or use another spreadsheet", need, oneByOne, full.what)
	}
	return fmt.Errorf("%s: set refresh: %s to refresh one tab after the other (it needs %d cells at most; readers may then see tabs of two runs side by side while it runs, or after a failure), or set max_rows, drop tabs, or use another spreadsheet",
		need, TabByTab, oneByOne)
}

// peakAllAtOnce is the cells of the spreadsheet once every tab is staged,
// and at its fullest during the swap: for each tab in turn, its new size
// (while its staging copy and the other staging copies are there), then
// without its staging copy.
func peakAllAtOnce(base int64, tabs map[string]tab, contents []*content) (staged, peak int64) {
	for _, c := range contents {
		staged += c.cells()
	}
	cells := base + staged
	peak = cells
	for _, c := range contents {
		old := tabs[c.tab]
		cells += c.cells() - old.rows*old.cols
		peak = max(peak, cells)
		cells -= c.cells()
	}
	return staged, peak
}

// peakTabByTab is the most cells the spreadsheet holds when the tabs are
// refreshed one after the other, each next to its staging copy while the
// tabs not yet refreshed keep their old size: in the swap the tab is
// resized while its staging copy still exists, so a tab that grows needs
// its new size twice for a moment. full is the first tab that would pass
// the limit (nil when all fit), and peak then the cells it would need.
func peakTabByTab(base int64, tabs map[string]tab, contents []*content) (peak int64, full *content) {
	cells := base
	peak = base
	for _, c := range contents {
		n := c.cells()
		old := tabs[c.tab]
		at := cells + n + max(0, n-old.rows*old.cols)
		if at > maxCells {
			return at, c
		}
		peak = max(peak, at)
		cells += n - old.rows*old.cols
	}
	return peak, nil
}

// withLogger makes the run's logger the one of the retries' WARN lines.
func withLogger(ctx context.Context, run connectors.Run) context.Context {
	if run.Logger == nil {
		return ctx
	}
	return backoff.WithLogger(ctx, run.Logger)
}

// logger is the run's logger (the default one when the run has none).
func logger(run connectors.Run) *slog.Logger {
	if run.Logger != nil {
		return run.Logger
	}
	return slog.Default()
}
