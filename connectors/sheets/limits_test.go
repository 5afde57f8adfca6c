package sheets

// Google Sheets' limits (issue 9), each proven against sheetsfake, which
// enforces them as Google does.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/option"
	gsheets "google.golang.org/api/sheets/v4"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/sheets/sheetsfake"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

// duck is a DuckDB connection holding the tables the statements create.
func duck(t *testing.T, stmts ...string) *sql.Conn {
	t.Helper()
	conn := sqltest.Conn(t)
	for _, q := range stmts {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

// publish publishes tables and returns the log.
func publish(t *testing.T, d *Destination, conn *sql.Conn, tables ...string) (string, error) {
	t.Helper()
	var log bytes.Buffer
	run := connectors.Run{ID: "r", StartedAt: time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC), Logger: slog.New(slog.NewTextHandler(&log, nil))}
	err := connectors.Publish(context.Background(), d, conn, run, connectors.Published{Tables: tables})
	return log.String(), err
}

func TestTextOverACellIsAnErrorBeforeAnyRequest(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	conn := duck(t, `CREATE TABLE notes (customer_ref VARCHAR, n BIGINT, note VARCHAR)`,
		`INSERT INTO notes VALUES ('C-1', 1, 'short'), ('C-2', 2, repeat('x', 50001)), ('C-3', 3, repeat('é', 50000))`)
	_, err := publish(t, d, conn, "notes")
	want := "table notes (tab notes), data row 2 (row 3 of the tab) (customer_ref C-2), column note: 50001 characters, above the 50000 characters of a Google Sheets cell"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "truncate_long_text: true") {
		t.Fatalf("err = %v", err)
	}
	if reqs := fake.Requests(); len(reqs) != 0 {
		t.Errorf("%d requests sent before failing, first %s %s", len(reqs), reqs[0].Method, reqs[0].Path)
	}
	// Values written with fmt.Sprint (a list) are measured as written.
	conn = duck(t, `CREATE TABLE tags (n BIGINT, tags VARCHAR[])`, `INSERT INTO tags VALUES (1, ['a']), (2, [repeat('y', 49999)])`)
	if _, err := publish(t, d, conn, "tags"); err == nil || !strings.Contains(err.Error(), "data row 2 (row 3 of the tab), column tags: 50001 characters") {
		t.Fatalf("list: err = %v", err)
	}
	if reqs := fake.Requests(); len(reqs) != 0 {
		t.Errorf("%d requests sent before failing", len(reqs))
	}
}

func TestTruncateLongTextCutsAndWarns(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\ntruncate_long_text: true\n")
	conn := duck(t, `CREATE TABLE notes (customer_ref VARCHAR, note VARCHAR, other VARCHAR)`,
		`INSERT INTO notes VALUES ('C-1', 'short', repeat('z', 60000)), ('C-2', repeat('x', 50001), repeat('é', 50000))`)
	var warnings []string
	run := connectors.Run{ID: "r", StartedAt: time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Warn: func(msg string) { warnings = append(warnings, msg) }}
	if err := connectors.Publish(context.Background(), d, conn, run, connectors.Published{Tables: []string{"notes"}}); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || warnings[0] != "sheets: 2 cells of tab notes cut to the 50000 characters of a Google Sheets cell (truncate_long_text)" {
		t.Errorf("no warning in the summary counting the 2 cells cut: %q", warnings)
	}
	s := mustSheet(t, fake, id, "notes")
	for _, rc := range [][2]int{{1, 2}, {2, 1}} {
		c := at(s, rc[0], rc[1])
		if n := len([]rune(c.String)); n != maxCellChars || !strings.HasSuffix(c.String, "…") {
			t.Errorf("cell %v: %d characters, suffix %q", rc, n, c.String[len(c.String)-8:])
		}
	}
	if c := at(s, 2, 2); c.String != strings.Repeat("é", 50000) {
		t.Errorf("a cell of exactly 50,000 characters was changed: %d", len([]rune(c.String)))
	}
}

func TestCutTextKeepsSurrogatePairsWhole(t *testing.T) {
	s := strings.Repeat("😀", 30000) // 60,000 UTF-16 units
	c := cutText(s)
	if textLen(c) > maxCellChars || !strings.HasSuffix(c, "😀…") || textLen(c) != maxCellChars-1 {
		t.Errorf("cut to %d units, suffix %q", textLen(c), c[len(c)-8:])
	}
	if textLen(strings.Repeat("😀", 25001)) != 50002 {
		t.Error("UTF-16 length")
	}
	if cutText("short") != "short" {
		t.Error("short text changed")
	}
}

// bigTab adds a tab of rows x cols to the spreadsheet, as a reader would.
func bigTab(t *testing.T, d *Destination, id, title string, rows, cols int64) {
	t.Helper()
	svc, err := d.service(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Spreadsheets.BatchUpdate(id, &gsheets.BatchUpdateSpreadsheetRequest{Requests: []*gsheets.Request{{AddSheet: &gsheets.AddSheetRequest{
		Properties: &gsheets.SheetProperties{Title: title, GridProperties: &gsheets.GridProperties{RowCount: rows, ColumnCount: cols}}}}}}).Do()
	if err != nil {
		t.Fatal(err)
	}
}

func batchUpdates(fake *sheetsfake.Server) int {
	n := 0
	for _, r := range fake.Requests() {
		if strings.HasSuffix(r.Path, ":batchUpdate") {
			n++
		}
	}
	return n
}

func TestTheCellLimitCountsEveryTab(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1") // 1000 x 26 = 26,000 cells
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	// A reader's own tab: with Sheet1, 9,990,000 cells that are not ours.
	bigTab(t, d, id, "Raw", 996_400, 10)
	conn := duck(t, `CREATE TABLE kpi AS SELECT i AS n, 'x' || i AS name FROM range(3000) t(i)`) // 3001 x 2 = 6,002 cells
	sent := batchUpdates(fake)
	// 9,990,000 + 6,002 fits, but not with the staging copy next to it
	// (the fake, as Google, would refuse the swap half way), whether every
	// tab is refreshed at once or one after the other.
	_, err := publish(t, d, conn, "kpi")
	if err == nil || !strings.Contains(err.Error(), "would need 10002012 cells to refresh every tab at once (9990000 in its tabs now, 6010 in the staging copies of the run's 2 tabs") ||
		!strings.Contains(err.Error(), "and 10002004 while refreshing table kpi (tab kpi) even one tab after the other: set max_rows") {
		t.Fatalf("err = %v", err)
	}
	d = newSheetsDest(t, fake, "spreadsheet_id: "+id+"\nrefresh: tab_by_tab\n")
	_, err = publish(t, d, conn, "kpi")
	if err == nil || !strings.Contains(err.Error(), "would need 10002004 cells while refreshing table kpi (tab kpi) (3001 × 2, with its staging copy and every other tab") {
		t.Fatalf("tab_by_tab: err = %v", err)
	}
	if batchUpdates(fake) != sent {
		t.Error("wrote to the spreadsheet before failing")
	}
	// With max_rows it fits; the fake counts all tabs and accepts every step.
	d = newSheetsDest(t, fake, "spreadsheet_id: "+id+"\nmax_rows: 2000\n")
	if _, err := publish(t, d, conn, "kpi"); err != nil {
		t.Fatal(err)
	}
	if s := mustSheet(t, fake, id, "kpi"); s.RowCount != 2001 || s.ColumnCount != 2 {
		t.Errorf("grid %dx%d", s.RowCount, s.ColumnCount)
	}
}

// wantTab checks that a tab holds exactly the header and rows n, name of
// rows 0..want-1: no trailing empty rows, no stale rows under the data.
func wantTab(t *testing.T, fake *sheetsfake.Server, id, title string, want int) *sheetsfake.Sheet {
	t.Helper()
	s := mustSheet(t, fake, id, title)
	frozen := 1
	if want == 0 {
		frozen = 0
	}
	if s.RowCount != want+1 || s.ColumnCount != 2 || len(s.Cells) != want+1 || s.FrozenRowCount != frozen || s.Hidden {
		t.Fatalf("%d rows: grid %dx%d, %d rows of cells, frozen %d, hidden %v", want, s.RowCount, s.ColumnCount, len(s.Cells), s.FrozenRowCount, s.Hidden)
	}
	if at(s, 0, 0).String != "n" || at(s, 0, 1).String != "name" {
		t.Errorf("header %+v", s.Cells[0])
	}
	for i := 0; i < want; i++ {
		if c, name := at(s, i+1, 0), at(s, i+1, 1); c.Kind != "number" || c.Number != float64(i) || name.String != fmt.Sprintf("c%d", i) {
			t.Fatalf("%d rows: row %d = %+v %+v", want, i+1, c, name)
		}
	}
	return s
}

func TestARefreshLeavesExactlyHeaderAndRows(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	d.maxRequestBytes = 20_000 // the big table takes several staging writes
	conn := duck(t)
	var gid int64 = -1
	for _, n := range []int{3000, 7, 0, 3000} {
		if _, err := conn.ExecContext(context.Background(), fmt.Sprintf(`CREATE OR REPLACE TABLE kpi AS SELECT i AS n, 'c' || i AS name FROM range(%d) t(i) ORDER BY i`, n)); err != nil {
			t.Fatal(err)
		}
		if _, err := publish(t, d, conn, "kpi"); err != nil {
			t.Fatalf("%d rows: %v", n, err)
		}
		s := wantTab(t, fake, id, "kpi", n)
		if gid >= 0 && s.ID != gid {
			t.Errorf("%d rows: sheetId changed", n)
		}
		gid = s.ID
		for _, sh := range fake.Sheets(id) {
			if strings.HasPrefix(sh.Title, stagePrefix) {
				t.Errorf("%d rows: staging tab %s left", n, sh.Title)
			}
		}
	}
	// Never an append: rows go to a staging tab at fixed coordinates.
	for _, r := range fake.Requests() {
		if body := string(r.Body); strings.Contains(body, "appendDimension") || strings.Contains(body, "appendCells") || strings.Contains(r.Path, ":append") || strings.Contains(r.Path, "/values") {
			t.Fatalf("an append: %s %.200s", r.Path, body)
		}
	}
}

// spy calls before ahead of each batchUpdate it forwards.
type spy struct{ before func() }

func (s spy) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, ":batchUpdate") {
		s.before()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestAManyRequestRefreshShowsReadersOldOrNewOnly(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	conn := duck(t, `CREATE TABLE kpi AS SELECT i AS n, 'c' || i AS name FROM range(5) t(i) ORDER BY i`)
	if _, err := publish(t, d, conn, "kpi"); err != nil {
		t.Fatal(err)
	}
	const budget = 20_000
	d.maxRequestBytes = budget
	if _, err := conn.ExecContext(context.Background(), `CREATE OR REPLACE TABLE kpi AS SELECT i AS n, 'c' || i AS name FROM range(4000) t(i) ORDER BY i`); err != nil {
		t.Fatal(err)
	}
	// Before every write, what a reader sees is the old tab or the new one.
	seen := map[int]int{}
	d.opts = append(d.opts, option.WithHTTPClient(&http.Client{Transport: spy{before: func() {
		s := mustSheet(t, fake, id, "kpi")
		if s.RowCount != 6 && s.RowCount != 4001 || len(s.Cells) != s.RowCount || s.Hidden {
			t.Errorf("a reader sees %d rows (%d with cells)", s.RowCount, len(s.Cells))
		}
		seen[s.RowCount]++
	}}}))
	from := len(fake.Requests())
	if _, err := publish(t, d, conn, "kpi"); err != nil {
		t.Fatal(err)
	}
	wantTab(t, fake, id, "kpi", 4000)
	staged, swaps := 0, 0
	for _, r := range fake.Requests()[from:] {
		body := string(r.Body)
		switch {
		case strings.Contains(body, `"updateCells"`):
			staged++
			if len(r.Body) > budget+1000 {
				t.Errorf("a staging write of %d bytes", len(r.Body))
			}
		case strings.Contains(body, `"copyPaste"`):
			swaps++
			if len(r.Body) > 2000 {
				t.Errorf("a swap of %d bytes", len(r.Body))
			}
		}
	}
	if staged < 5 || swaps != 1 || seen[6] < staged {
		t.Errorf("%d staging writes, %d swaps (kpi and _meta together), reader saw %v", staged, swaps, seen)
	}
}

func TestRowsLargerThanARequestAreSplitByColumns(t *testing.T) {
	fake := sheetsfake.New(t) // Google's 10 MB request limit
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	// 2 rows of 240 cells of 45,000 characters: 10.8 MB of JSON a row.
	var cols []string
	for j := range 240 {
		cols = append(cols, fmt.Sprintf("repeat(chr(CAST(97 + (i + %d) %% 26 AS INTEGER)), 45000) AS t%d", j, j))
	}
	conn := duck(t, `CREATE TABLE wide AS SELECT i AS n, `+strings.Join(cols, ", ")+` FROM range(2) t(i) ORDER BY i`)
	if _, err := publish(t, d, conn, "wide"); err != nil {
		t.Fatal(err)
	}
	s := mustSheet(t, fake, id, "wide")
	if s.RowCount != 3 || s.ColumnCount != 241 || at(s, 2, 240).String != strings.Repeat(string(rune('a'+(1+239)%26)), 45000) || at(s, 1, 1).String != strings.Repeat("a", 45000) {
		t.Errorf("grid %dx%d", s.RowCount, s.ColumnCount)
	}
	for _, r := range fake.Requests() {
		if len(r.Body) > maxRequestBytes+1000 {
			t.Errorf("a request of %d bytes", len(r.Body))
		}
	}
}
