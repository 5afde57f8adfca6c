package sheets

// Issue 15, Sheets in the fewest requests: the staging writes carry the
// rows of several tabs each, up to the request budget, and a table larger
// than a request is split across several; Google's 60 writes a minute per
// user make the count of requests the publish time.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors/sheets/sheetsfake"
)

// intTable creates a table of rows rows and cols BIGINT columns c01, c02,
// … holding numbers of 3 digits: every data cell is 40 bytes of JSON,
// {"userEnteredValue":{"numberValue":123}}, every header cell 42.
func intTable(name string, rows, cols int) string {
	var sel []string
	for j := 1; j <= cols; j++ {
		sel = append(sel, fmt.Sprintf("100 + (i + %d) %% 900 AS c%02d", j, j))
	}
	return fmt.Sprintf("CREATE TABLE %s AS SELECT %s FROM range(%d) t(i) ORDER BY i", name, strings.Join(sel, ", "), rows)
}

// sampleTables are the output tables of the bundled sample's run (go run
// ./cmd/uptake run --config config/sample.yaml), with its data rows and
// columns.
var sampleTables = []struct {
	name       string
	rows, cols int
}{
	{"action_list", 81, 10},
	{"customer_monthly", 1869, 33},
	{"feature_adoption", 216, 8},
	{"feature_segments", 377, 7},
	{"kpi_daily", 363, 7},
	{"kpi_overview_monthly", 12, 55},
	{"kpi_salesperson_monthly", 72, 56},
	{"runs", 10, 12},
	{"source_quality", 0, 12},
	{"weekly_active_customers", 306, 7},
}

// stagingWrites are the batchUpdates among reqs that write rows.
func stagingWrites(reqs []sheetsfake.Request) []sheetsfake.Request {
	var out []sheetsfake.Request
	for _, r := range reqs {
		if sheetsfake.IsWrite(r) && strings.Contains(string(r.Body), `"updateCells"`) {
			out = append(out, r)
		}
	}
	return out
}

// The sample publishes in 4 write requests (16 before issue 15: one batch
// adding the staging tabs, one write per tab but four for
// customer_monthly, whose cells each repeated their number format, then
// the swap; this test counted 17 then).
//
// By hand, with the sample's tables as built by intTable (its real cells
// average 39 bytes of JSON): a data row of n cells is {"values":[…]}, 11
// + 2 bytes, plus 40 a cell and n-1 commas: 41n+12 bytes, and one comma
// more in its request, 41n+13.
//
//	action_list              81 rows × (41×10+13 =  423) =    34,263
//	customer_monthly       1869 rows × (41×33+13 = 1366) = 2,553,054
//	feature_adoption        216 rows × (41×8+13  =  341) =    73,656
//	feature_segments        377 rows × (41×7+13  =  300) =   113,100
//	kpi_daily               363 rows ×              300  =   108,900
//	kpi_overview_monthly     12 rows × (41×55+13 = 2268) =    27,216
//	kpi_salesperson_monthly  72 rows × (41×56+13 = 2309) =   166,248
//	runs                     10 rows × (41×12+13 =  505) =     5,050
//	source_quality            0 rows                     =         0
//	weekly_active_customers 306 rows ×              300  =    91,800
//	                                                        3,173,287
//
// and the headers, 207 columns of 42 bytes and 10 rows: 43×207 + 13×10 =
// 9,031 bytes. Add under 10 kB for the 11 addSheet requests of the
// staging tabs (~150 bytes each), one repeatCell a tab setting the number
// format of its column run (~230 bytes each, none for source_quality's
// empty tab), ~150 bytes a request writing rows (a dozen), and _meta's 13
// rows: about 3.19 MB. Two requests of at most 1,500,000 bytes cannot
// hold it; three can, since each request but the last is filled to
// within one row (2,309 bytes at most) of the budget: 3 staging writes,
// the first also adding the 11 staging tabs, then the swap. 4 writes.
func TestTheSampleIsPublishedInFourWrites(t *testing.T) {
	fake := sheetsfake.New(t)
	fake.SetMaxRequestBytes(maxRequestBytes) // the fake refuses any request over the budget
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	const gap = 100 * time.Millisecond
	d.writeGap = gap
	var stmts, names []string
	for _, tb := range sampleTables {
		stmts = append(stmts, intTable(tb.name, tb.rows, tb.cols))
		names = append(names, tb.name)
	}
	conn := duck(t, stmts...)
	t0 := time.Now()
	if _, err := publish(t, d, conn, names...); err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	reqs := fake.Requests()
	if n := writes(reqs); n != 4 {
		t.Errorf("%d write requests, want 4", n)
	}
	staging := stagingWrites(reqs)
	if len(staging) != 3 || strings.Count(string(staging[0].Body), `"addSheet"`) != 11 {
		t.Fatalf("%d staging writes, want 3, the first adding the 11 staging tabs", len(staging))
	}
	total := 0
	for i, r := range staging {
		t.Logf("staging write %d: %d bytes, %d updateCells", i+1, len(r.Body), strings.Count(string(r.Body), `"updateCells"`))
		total += len(r.Body)
		if i < 2 && len(r.Body) < maxRequestBytes-2309 {
			t.Errorf("staging write %d: %d bytes, not filled to the budget", i+1, len(r.Body))
		}
	}
	if total < 3_180_000 || total > 3_200_000 {
		t.Errorf("the staging writes carry %d bytes, about 3.19 MB by hand", total)
	}
	// The second one ends customer_monthly and writes whole tabs after it.
	if n := strings.Count(string(staging[1].Body), `"updateCells"`); n < 4 {
		t.Errorf("the second staging write writes %d tabs' rows", n)
	}
	for _, tb := range sampleTables {
		s := mustSheet(t, fake, id, tb.name)
		last := at(s, tb.rows, tb.cols-1)
		if s.RowCount != tb.rows+1 || s.ColumnCount != tb.cols || len(s.Cells) != tb.rows+1 || at(s, 0, tb.cols-1).String != fmt.Sprintf("c%02d", tb.cols) ||
			tb.rows > 0 && (last.Number != float64(100+(tb.rows-1+tb.cols)%900) || last.FormatType != "NUMBER" || last.FormatPattern != "0") {
			t.Errorf("%s: grid %dx%d, %d rows of cells, last cell %+v", tb.name, s.RowCount, s.ColumnCount, len(s.Cells), last)
		}
	}
	if left := stagingTabs(t, fake, id); len(left) != 0 {
		t.Errorf("staging tabs left: %v", left)
	}
	// Paced: 3 gaps between 4 writes. With the real gap of a second, the
	// sample's writes take 3 s (16 writes took 15 s).
	if took < 3*gap {
		t.Errorf("4 writes in %s, less than 3 gaps of %s", took, gap)
	}
}

// A table larger than a request goes in several, each filled to the
// budget. By hand: 12,000 rows of 10 cells of 40 bytes cost 41×10+13 =
// 423 bytes each in a request, 5,076,000 bytes in all (plus ~2 kB of
// header, _meta, staging tabs and formats). Three requests of at most
// 1,500,000 bytes cannot hold them; four can (each filled to within a
// row of the budget, ~3,545 rows): 4 staging writes, then the swap. 5
// writes.
func TestATableLargerThanARequestIsSplit(t *testing.T) {
	fake := sheetsfake.New(t)
	fake.SetMaxRequestBytes(maxRequestBytes)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	conn := duck(t, intTable("big", 12_000, 10))
	if _, err := publish(t, d, conn, "big"); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	staging := stagingWrites(reqs)
	if n := writes(reqs); n != 5 || len(staging) != 4 {
		t.Errorf("%d writes, %d of them staging rows: want 5 and 4", n, len(staging))
	}
	for i, r := range staging[:len(staging)-1] {
		if len(r.Body) < maxRequestBytes-423 {
			t.Errorf("staging write %d: %d bytes, not filled to the budget", i+1, len(r.Body))
		}
	}
	s := mustSheet(t, fake, id, "big")
	if s.RowCount != 12_001 || len(s.Cells) != 12_001 || at(s, 12_000, 9).Number != float64(100+(11_999+10)%900) || at(s, 12_000, 9).FormatType != "NUMBER" {
		t.Errorf("grid %dx%d, last row %+v", s.RowCount, s.ColumnCount, s.Cells[len(s.Cells)-1])
	}
}

// The byte count of a request is never below what the client sends: with
// the fake refusing a body one byte over a small budget, tabs of every
// size (rows of one tab across requests, several tabs in one, a row wider
// than a request in pieces) are all written.
func TestRequestsNeverPassTheBudget(t *testing.T) {
	const budget = 3_000
	fake := sheetsfake.New(t)
	fake.SetMaxRequestBytes(budget)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	d.maxRequestBytes = budget
	conn := duck(t, intTable("a", 200, 3), intTable("b", 1, 2), intTable("wide", 3, 120), intTable("c", 0, 4),
		`CREATE TABLE notes AS SELECT i AS n, repeat('é', 100 + i) AS note, 0.5::DOUBLE AS active_rate, DATE '2026-01-01' + i::INTEGER AS day FROM range(40) t(i)`)
	if _, err := publish(t, d, conn, "a", "b", "wide", "c", "notes"); err != nil {
		t.Fatal(err)
	}
	largest := 0
	for _, r := range fake.Requests() {
		largest = max(largest, len(r.Body))
	}
	if largest < budget-500 {
		t.Errorf("the largest request is %d bytes: requests not filled", largest)
	}
	for _, tb := range []struct {
		name       string
		rows, cols int
	}{{"a", 200, 3}, {"b", 1, 2}, {"wide", 3, 120}, {"c", 0, 4}} {
		s := mustSheet(t, fake, id, tb.name)
		if s.RowCount != tb.rows+1 || len(s.Cells) != tb.rows+1 || tb.rows > 0 && at(s, tb.rows, tb.cols-1).Number != float64(100+(tb.rows-1+tb.cols)%900) {
			t.Errorf("%s: %d rows, %d with cells", tb.name, s.RowCount, len(s.Cells))
		}
	}
	s := mustSheet(t, fake, id, "notes")
	if c := at(s, 40, 1); c.String != strings.Repeat("é", 139) || at(s, 40, 2).FormatType != "PERCENT" || at(s, 40, 3).FormatType != "DATE" {
		t.Errorf("notes: last row %+v", s.Cells[40])
	}
}
