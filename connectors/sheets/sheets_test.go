package sheets

// The sheets destination, with the real client library google.golang.org/api/sheets/v4
// talking over HTTP to sheetsfake, an in-process fake of the Sheets REST API.

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"go.yaml.in/yaml/v3"
	"google.golang.org/api/option"
	gsheets "google.golang.org/api/sheets/v4"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/connectors/sheets/sheetsfake"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

func newSheetsDest(t *testing.T, fake *sheetsfake.Server, yamlText string) *Destination {
	t.Helper()
	d, err := newDest(t, fake, yamlText)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// newDest builds a destination of the config block talking to fake.
func newDest(t *testing.T, fake *sheetsfake.Server, yamlText string) (*Destination, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("kind: sheets\n"+yamlText), &doc); err != nil {
		t.Fatal(err)
	}
	d, err := New(config.Plugin{Name: "gs", Kind: "sheets", Node: doc.Content[0], File: "uptake.yaml"})
	if err != nil {
		return nil, err
	}
	d.opts = fake.ClientOptions()
	d.backoff = backoff.Policy{Service: "sheets", Base: time.Millisecond, Max: 4 * time.Millisecond, Attempts: 4}
	d.writeGap = 0
	return d, nil
}

// kpiTable is a small output table: a month, a name that looks like a
// formula, a count, a ratio, a flag and a timestamp.
func kpiTable(t *testing.T, rows string) *sql.Conn {
	t.Helper()
	conn := sqltest.Conn(t)
	for _, q := range []string{
		`CREATE TABLE kpi (month DATE, salesperson VARCHAR, active_customers BIGINT, monthly_active_rate DOUBLE, complete BOOLEAN, published_at TIMESTAMP)`,
		`INSERT INTO kpi VALUES ` + rows,
	} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

const threeRows = `(DATE '2026-08-01', 'Alice', 3, 0.75, true, TIMESTAMP '2026-10-01 02:00:00'),
	(DATE '2026-09-01', '=IMPORTXML("http://x")', 2, 0.5, true, TIMESTAMP '2026-10-01 02:00:00'),
	(DATE '2026-10-01', '+33 1 23 45', 1, NULL, false, TIMESTAMP '2026-10-01 02:00:00')`

func publishKPI(t *testing.T, d *Destination, conn *sql.Conn, runID string) error {
	t.Helper()
	run := connectors.Run{ID: runID, StartedAt: time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return connectors.Publish(context.Background(), d, conn, run, connectors.Published{Tables: []string{"kpi"}, RowsOut: map[string]int64{"kpi": 3},
		WindowStart: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), WindowEnd: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)})
}

func mustSheet(t *testing.T, fake *sheetsfake.Server, id, title string) *sheetsfake.Sheet {
	t.Helper()
	s, ok := fake.Sheet(id, title)
	if !ok {
		t.Fatalf("no tab %q", title)
	}
	return s
}

func at(s *sheetsfake.Sheet, r, c int) sheetsfake.Cell {
	if r < len(s.Cells) && c < len(s.Cells[r]) {
		return s.Cells[r][c]
	}
	return sheetsfake.Cell{}
}

// serial is a date as a spreadsheet number (days since 1899-12-30).
func serial(y int, m time.Month, d int) float64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24
}

func TestPublishWritesATypedTab(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Notes")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	if err := publishKPI(t, d, kpiTable(t, threeRows), "r1"); err != nil {
		t.Fatal(err)
	}
	s := mustSheet(t, fake, id, "kpi")
	if s.RowCount != 4 || s.ColumnCount != 6 || s.FrozenRowCount != 1 || s.Hidden {
		t.Errorf("grid %dx%d frozen %d hidden %v", s.RowCount, s.ColumnCount, s.FrozenRowCount, s.Hidden)
	}
	if h := at(s, 0, 3); h.Kind != "string" || h.String != "monthly_active_rate" {
		t.Errorf("header = %+v", h)
	}
	if c := at(s, 1, 0); c.Kind != "number" || c.Number != serial(2026, 8, 1) || c.FormatType != "DATE" {
		t.Errorf("month = %+v", c)
	}
	if c := at(s, 1, 2); c.Kind != "number" || c.Number != 3 || c.FormatType != "NUMBER" {
		t.Errorf("count = %+v", c)
	}
	if c := at(s, 1, 3); c.Kind != "number" || c.Number != 0.75 || c.FormatType != "PERCENT" {
		t.Errorf("rate = %+v", c)
	}
	if c := at(s, 3, 3); c.Kind != "" {
		t.Errorf("NULL rate = %+v, want an empty cell", c)
	}
	if c := at(s, 1, 4); c.Kind != "bool" || !c.Bool {
		t.Errorf("flag = %+v", c)
	}
	if c := at(s, 3, 4); c.Kind != "bool" || c.Bool {
		t.Errorf("false flag = %+v", c)
	}
	if c := at(s, 1, 5); c.Kind != "number" || c.FormatType != "DATE_TIME" || math.Abs(c.Number-(serial(2026, 10, 1)+2.0/24)) > 1e-9 {
		t.Errorf("timestamp = %+v", c)
	}
	// Text that looks like a formula or a number stays text.
	if c := at(s, 2, 1); c.Kind != "string" || c.String != `=IMPORTXML("http://x")` {
		t.Errorf("formula-looking name = %+v", c)
	}
	if c := at(s, 3, 1); c.Kind != "string" || c.String != "+33 1 23 45" {
		t.Errorf("number-looking name = %+v", c)
	}
	// The _meta tab, the untouched tab, and no staging tab left.
	meta := mustSheet(t, fake, id, MetaTab)
	var keys []string
	for r := range meta.Cells {
		keys = append(keys, at(meta, r, 0).String)
	}
	if strings.Join(keys, ",") != "key,last_refresh_utc,run_id,period_start,period_end,rows:kpi" || at(meta, 2, 1).String != "r1" || at(meta, 5, 1).Number != 3 ||
		at(meta, 4, 1).Number != serial(2026, 10, 31) || at(meta, 4, 1).FormatType != "DATE" || math.Abs(at(meta, 1, 1).Number-(serial(2026, 10, 1)+2.0/24)) > 1e-9 {
		t.Errorf("_meta = %v", meta.Cells)
	}
	var titles []string
	for _, sh := range fake.Sheets(id) {
		titles = append(titles, sh.Title)
	}
	if strings.Join(titles, ",") != "Notes,kpi,_meta" {
		t.Errorf("tabs = %v", titles)
	}
}

func TestRefreshKeepsTheSheetIDAndLeavesNoStaleRows(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\ntabs: {kpi: Overview}\n")
	if err := publishKPI(t, d, kpiTable(t, threeRows), "r1"); err != nil {
		t.Fatal(err)
	}
	first := mustSheet(t, fake, id, "Overview")
	if err := publishKPI(t, d, kpiTable(t, `(DATE '2026-11-01', 'Bob', 7, 0.25, true, TIMESTAMP '2026-12-01 02:00:00')`), "r2"); err != nil {
		t.Fatal(err)
	}
	second := mustSheet(t, fake, id, "Overview")
	if second.ID != first.ID {
		t.Errorf("sheetId changed from %d to %d: Looker Studio data sources would break", first.ID, second.ID)
	}
	if second.RowCount != 2 || at(second, 1, 1).String != "Bob" || at(second, 2, 1).Kind != "" {
		t.Errorf("after shrinking: %d rows, %v", second.RowCount, second.Cells)
	}
	for _, sh := range fake.Sheets(id) {
		if strings.HasPrefix(sh.Title, stagePrefix) {
			t.Errorf("staging tab %s left behind", sh.Title)
		}
	}
}

func TestWriteQuotaErrorsAreRetried(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	batch := func(r sheetsfake.Request) bool { return strings.HasSuffix(r.Path, ":batchUpdate") }
	fake.FailNext(batch, http.StatusTooManyRequests, 1)
	fake.FailNext(batch, http.StatusServiceUnavailable, 1)
	if err := publishKPI(t, d, kpiTable(t, threeRows), "r1"); err != nil {
		t.Fatal(err)
	}
	if s := mustSheet(t, fake, id, "kpi"); s.RowCount != 4 {
		t.Errorf("%d rows", s.RowCount)
	}
}

func TestTheCellLimitIsCheckedBeforeWriting(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	conn := kpiTable(t, threeRows)
	// 1,700,000 rows x 6 columns = 10.2 M cells.
	if _, err := conn.ExecContext(context.Background(), `INSERT INTO kpi SELECT DATE '2026-01-01', 'x', i, 0.5, true, TIMESTAMP '2026-01-01' FROM range(1700000) t(i)`); err != nil {
		t.Fatal(err)
	}
	err := publishKPI(t, d, conn, "r1")
	if err == nil || !strings.Contains(err.Error(), "table kpi (tab kpi) would hold 1700004 rows × 6 columns") {
		t.Fatalf("err = %v", err)
	}
	for _, r := range fake.Requests() {
		if strings.HasSuffix(r.Path, ":batchUpdate") {
			t.Fatalf("wrote to the spreadsheet before failing: %s", r.Path)
		}
	}
	// With max_rows the most recent rows fit.
	d = newSheetsDest(t, fake, "spreadsheet_id: "+id+"\nmax_rows: 2\n")
	if err := publishKPI(t, d, kpiTable(t, threeRows), "r2"); err != nil {
		t.Fatal(err)
	}
	if s := mustSheet(t, fake, id, "kpi"); s.RowCount != 3 || at(s, 1, 1).String != `=IMPORTXML("http://x")` {
		t.Errorf("capped tab: %v", s.Cells)
	}
}

func TestLookerDataSourceNamesTheTabsGID(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\ntabs: {kpi: Overview}\n")
	if _, err := d.LookerDataSource(context.Background(), "kpi"); err == nil || !strings.Contains(err.Error(), "run uptake once first") {
		t.Errorf("before publishing: %v", err)
	}
	if err := publishKPI(t, d, kpiTable(t, threeRows), "r1"); err != nil {
		t.Fatal(err)
	}
	ds, err := d.LookerDataSource(context.Background(), "kpi")
	if err != nil {
		t.Fatal(err)
	}
	s := mustSheet(t, fake, id, "Overview")
	if ds["connector"] != "googleSheets" || ds["spreadsheetId"] != id || ds["worksheetId"] != strconv.FormatInt(s.ID, 10) || ds["hasHeader"] != "true" {
		t.Errorf("data source = %v (tab id %d)", ds, s.ID)
	}
}

func TestLargeTabsAreWrittenInRequestsUnder2MB(t *testing.T) {
	fake := sheetsfake.New(t)
	fake.SetMaxRequestBytes(2_000_000) // Google recommends 2 MB at most
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	conn := kpiTable(t, threeRows)
	if _, err := conn.ExecContext(context.Background(), `INSERT INTO kpi SELECT DATE '2026-01-01' + INTERVAL (i % 300) DAY, 'Customer ' || i, i, i / 40000.0, i % 2 = 0, TIMESTAMP '2026-01-01' FROM range(40000) t(i)`); err != nil {
		t.Fatal(err)
	}
	if err := publishKPI(t, d, conn, "r1"); err != nil {
		t.Fatal(err)
	}
	s := mustSheet(t, fake, id, "kpi")
	if s.RowCount != 40004 || at(s, 40003, 1).String != "Customer 39999" {
		t.Errorf("%d rows, last %+v", s.RowCount, at(s, 40003, 1))
	}
	writes := 0
	for _, r := range fake.Requests() {
		if strings.Contains(string(r.Body), `"updateCells"`) {
			writes++
			if len(r.Body) > 2_000_000 {
				t.Errorf("a request of %d bytes", len(r.Body))
			}
		}
	}
	if writes < 2 {
		t.Errorf("%d writes: the rows were not split", writes)
	}
}

func TestCheckExplainsAnUnreachableSpreadsheet(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	if errs := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n").Check(context.Background(), nil, connectors.Run{}); len(errs) != 0 {
		t.Errorf("check: %v", errs)
	}
	errs := newSheetsDest(t, fake, "spreadsheet_id: nope\n").Check(context.Background(), nil, connectors.Run{})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "No spreadsheet nope") || !strings.Contains(errs[0].Error(), "shared with the service account") {
		t.Errorf("check of an unknown spreadsheet: %v", errs)
	}
	fake.FailNext(nil, http.StatusForbidden, 1)
	errs = newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n").Check(context.Background(), nil, connectors.Run{})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "Share the spreadsheet (Editor) with the service account") {
		t.Errorf("check without permission: %v", errs)
	}
}

// lossy is a transport that delivers the first request matching match but
// loses its answer, as a connection reset would.
type lossy struct {
	match func(body string) bool
	lost  bool
}

func (l *lossy) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && !l.lost && l.match(string(body)) {
		l.lost = true
		resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return resp, err
}

func TestABatchWhoseAnswerIsLostIsNotSentAgain(t *testing.T) {
	// The batch adding the staging tabs, and the swap.
	for _, match := range []string{`"hidden":true`, `"copyPaste"`} {
		fake := sheetsfake.New(t)
		id := fake.CreateSpreadsheet("KPIs", "Sheet1")
		d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
		d.opts = append(d.opts, option.WithHTTPClient(&http.Client{Transport: &lossy{match: func(b string) bool { return strings.Contains(b, match) }}}))
		if err := publishKPI(t, d, kpiTable(t, threeRows), "r1"); err != nil {
			t.Fatal(err)
		}
		if s := mustSheet(t, fake, id, "kpi"); s.RowCount != 4 || at(s, 1, 1).String != "Alice" {
			t.Errorf("tab: %v", s.Cells)
		}
		sent := 0
		for _, r := range fake.Requests() {
			if strings.Contains(string(r.Body), match) {
				sent++
			}
		}
		if sent != 1 {
			t.Errorf("%s: sent %d times, want 1", match, sent)
		}
	}
}

func TestTabsMustNameOutputTables(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\ntabs: {kpi_overveiw: Overview}\n")
	if err := publishKPI(t, d, kpiTable(t, threeRows), "r1"); err == nil || !strings.Contains(err.Error(), "tabs: kpi_overveiw is not an output table (they are: kpi)") {
		t.Errorf("err = %v", err)
	}
}

func TestWritesArePaced(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	d.writeGap = 50 * time.Millisecond
	t0 := time.Now()
	if err := publishKPI(t, d, kpiTable(t, threeRows), "r1"); err != nil {
		t.Fatal(err)
	}
	writes := 0
	for _, r := range fake.Requests() {
		if strings.HasSuffix(r.Path, ":batchUpdate") {
			writes++
		}
	}
	// Staging tabs added with the rows of kpi and _meta, then the swap:
	// 2 writes, one gap between them.
	if writes != 2 || time.Since(t0) < 50*time.Millisecond {
		t.Errorf("%d writes in %s", writes, time.Since(t0))
	}
}

func TestFrozenColumnsAreKeptWhileTheyFit(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	if err := publishKPI(t, d, kpiTable(t, threeRows), "r1"); err != nil {
		t.Fatal(err)
	}
	// A sales manager froze the first 5 columns of the 6.
	svc, err := d.service(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tab := mustSheet(t, fake, id, "kpi")
	_, err = svc.Spreadsheets.BatchUpdate(id, &gsheets.BatchUpdateSpreadsheetRequest{Requests: []*gsheets.Request{{UpdateSheetProperties: &gsheets.UpdateSheetPropertiesRequest{
		Properties: &gsheets.SheetProperties{SheetId: tab.ID, GridProperties: &gsheets.GridProperties{FrozenColumnCount: 5}}, Fields: "gridProperties.frozenColumnCount"}}}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	// The same table again: the frozen columns stay.
	if err := publishKPI(t, d, kpiTable(t, threeRows), "r2"); err != nil {
		t.Fatal(err)
	}
	if s := mustSheet(t, fake, id, "kpi"); s.FrozenColumnCount != 5 {
		t.Errorf("frozen columns = %d, want 5 kept", s.FrozenColumnCount)
	}
	// A table of 3 columns: at most 2 can stay frozen, or the swap is refused.
	narrow := kpiTable(t, threeRows)
	if _, err := narrow.ExecContext(context.Background(), `ALTER TABLE kpi DROP COLUMN published_at; ALTER TABLE kpi DROP COLUMN complete; ALTER TABLE kpi DROP COLUMN monthly_active_rate`); err != nil {
		t.Fatal(err)
	}
	if err := publishKPI(t, d, narrow, "r3"); err != nil {
		t.Fatal(err)
	}
	if s := mustSheet(t, fake, id, "kpi"); s.ColumnCount != 3 || s.FrozenColumnCount != 2 {
		t.Errorf("after narrowing: %d columns, %d frozen", s.ColumnCount, s.FrozenColumnCount)
	}
}

// endpoint: points the real client at another server with no credentials
// (here the fake, reached through its URL only: no test HTTP client).
func TestEndpointSetting(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs")
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("kind: sheets\nspreadsheet_id: "+id+"\nendpoint: "+fake.URL()+"\n"), &doc); err != nil {
		t.Fatal(err)
	}
	d, err := New(config.Plugin{Name: "gs", Kind: "sheets", Node: doc.Content[0], File: "uptake.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	d.writeGap = 0
	if err := publishKPI(t, d, kpiTable(t, threeRows), "r1"); err != nil {
		t.Fatal(err)
	}
	if s := mustSheet(t, fake, id, "kpi"); len(s.Cells) != 4 {
		t.Errorf("kpi tab: %d rows, want header + 3", len(s.Cells))
	}
}
