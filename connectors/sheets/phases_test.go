package sheets

// The three phases (issue 13): Plan reads only, Prepare stages every tab,
// Commit is one batchUpdate; a run that fails or is killed anywhere leaves
// readers the previous run's tabs and _meta, and the next run repairs.

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

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/googleauth"
	"github.com/uptake-dev/uptake/connectors/sheets/sheetsfake"
)

// runTables are a run's two output tables, kpi and accounts, each with
// rows rows tagged with the run id (a tab shows which run wrote it).
func runTables(t *testing.T, runID string, rows int) *sql.Conn {
	t.Helper()
	return duck(t,
		fmt.Sprintf(`CREATE TABLE kpi AS SELECT i AS n, '%s' AS run FROM range(%d) t(i) ORDER BY i`, runID, rows),
		fmt.Sprintf(`CREATE TABLE accounts AS SELECT 'C-' || i AS customer_ref, '%s' AS run, i * 2 AS seats FROM range(%d) t(i) ORDER BY i`, runID, rows+1))
}

func runOf(id string) connectors.Run {
	return connectors.Run{ID: id, StartedAt: time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

var runOutputs = connectors.Published{Tables: []string{"kpi", "accounts"}}

// publishRun publishes runTables(runID, rows) through the three phases.
func publishRun(t *testing.T, d *Destination, runID string, rows int) error {
	t.Helper()
	return connectors.Publish(context.Background(), d, runTables(t, runID, rows), runOf(runID), runOutputs)
}

// readersSee checks that every visible tab (kpi, accounts, _meta) holds
// the same run, whole, and returns that run's id; hidden tabs are the
// staging tabs a reader does not see.
func readersSee(t *testing.T, fake *sheetsfake.Server, id string, rowsOf map[string]int) string {
	t.Helper()
	meta := mustSheet(t, fake, id, MetaTab)
	run := at(meta, 2, 1).String
	if meta.Hidden || at(meta, 2, 0).String != "run_id" {
		t.Fatalf("_meta: %v", meta.Cells)
	}
	for tab, extra := range map[string]int{"kpi": 0, "accounts": 1} {
		s := mustSheet(t, fake, id, tab)
		want := rowsOf[run] + extra
		if s.Hidden || s.RowCount != want+1 || len(s.Cells) != want+1 || at(s, want, 1).String != run || at(s, 1, 1).String != run {
			t.Fatalf("tab %s: %d rows (%d with cells), run %q, while _meta names run %q: readers see two runs", tab, s.RowCount, len(s.Cells), at(s, want, 1).String, run)
		}
		if c := at(meta, rowIndex(meta, "rows:"+tab), 1); c.Number != float64(want) {
			t.Fatalf("_meta says %v rows for %s, the tab has %d", c.Number, tab, want)
		}
	}
	return run
}

// rowIndex is the row of _meta holding key.
func rowIndex(meta *sheetsfake.Sheet, key string) int {
	for r := range meta.Cells {
		if at(meta, r, 0).String == key {
			return r
		}
	}
	return -1
}

// stagingTabs lists the staging tabs of the spreadsheet, failing when one
// is visible.
func stagingTabs(t *testing.T, fake *sheetsfake.Server, id string) []string {
	t.Helper()
	var out []string
	for _, s := range fake.Sheets(id) {
		if strings.HasPrefix(s.Title, stagePrefix) {
			if !s.Hidden {
				t.Errorf("staging tab %s is visible", s.Title)
			}
			out = append(out, s.Title)
		}
	}
	return out
}

// writes counts the batchUpdates among requests.
func writes(reqs []sheetsfake.Request) int {
	n := 0
	for _, r := range reqs {
		if sheetsfake.IsWrite(r) {
			n++
		}
	}
	return n
}

func TestEachPhaseSendsWhatItMust(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Notes")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	ctx := context.Background()
	if err := publishRun(t, d, "r1", 3); err != nil {
		t.Fatal(err)
	}
	from := len(fake.Requests())
	since := func() []sheetsfake.Request { r := fake.Requests()[from:]; from += len(r); return r }
	p, err := d.Plan(ctx, runTables(t, "r2", 5), runOf("r2"), runOutputs)
	if err != nil {
		t.Fatal(err)
	}
	if reqs := since(); len(reqs) != 1 || reqs[0].Method != http.MethodGet {
		t.Errorf("Plan sent %d requests, want one read", len(reqs))
	}
	if err := p.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	// A read, then one batch adding the 3 hidden staging tabs and writing
	// the rows of all of them (a few kB, far under the request budget).
	if reqs := since(); writes(reqs) != 1 || !strings.Contains(string(reqs[1].Body), `"hidden":true`) || strings.Count(string(reqs[1].Body), `"updateCells"`) != 3 {
		t.Errorf("Prepare sent %d writes, want 1", writes(reqs))
	}
	if got := stagingTabs(t, fake, id); len(got) != 3 {
		t.Errorf("staging tabs after Prepare: %v", got)
	}
	if run := readersSee(t, fake, id, map[string]int{"r1": 3}); run != "r1" {
		t.Errorf("after Prepare readers see %s", run)
	}
	if err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := since()
	if writes(reqs) != 1 {
		t.Fatalf("Commit sent %d batchUpdates, want exactly 1", writes(reqs))
	}
	swap := string(reqs[len(reqs)-1].Body)
	if n := strings.Count(swap, `"copyPaste"`); n != 3 || strings.Count(swap, `"deleteSheet"`) != 3 || strings.Count(swap, `"updateSheetProperties"`) != 3 {
		t.Errorf("the swap copies %d tabs: %.300s", n, swap)
	}
	p.Discard(ctx)
	if reqs := since(); len(reqs) != 0 {
		t.Errorf("Discard after a commit sent %d requests", len(reqs))
	}
	if run := readersSee(t, fake, id, map[string]int{"r2": 5}); run != "r2" || len(stagingTabs(t, fake, id)) != 0 {
		t.Errorf("after Commit readers see %s, staging %v", run, stagingTabs(t, fake, id))
	}
}

func TestAFailureAtAnyWriteLeavesThePreviousRun(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Notes")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	d.maxRequestBytes = 2_000 // accounts takes several writes
	rows := map[string]int{"r1": 40, "r2": 90, "r3": 10}
	if err := publishRun(t, d, "r1", rows["r1"]); err != nil {
		t.Fatal(err)
	}
	from := len(fake.Requests())
	if err := publishRun(t, d, "p2", rows["r2"]); err != nil {
		t.Fatal(err)
	}
	rows["p2"] = rows["r2"]
	n := writes(fake.Requests()[from:])
	if n < 6 {
		t.Fatalf("a run of %d writes: not enough to fail midway", n)
	}
	// Refused at its first write, at each staging write, or at the swap:
	// readers still see the last good run whole, and nothing is left.
	for k := 1; k <= n; k++ {
		fake.FailAt(sheetsfake.IsWrite, k, http.StatusBadRequest)
		err := publishRun(t, d, "r2", rows["r2"])
		if err == nil {
			t.Fatalf("write %d of %d refused, yet the run succeeded", k, n)
		}
		if run := readersSee(t, fake, id, rows); run != "p2" {
			t.Fatalf("write %d of %d refused: readers see %s", k, n, run)
		}
		if left := stagingTabs(t, fake, id); len(left) != 0 {
			t.Errorf("write %d of %d refused: staging tabs left %v", k, n, left)
		}
	}
	if err := publishRun(t, d, "r3", rows["r3"]); err != nil {
		t.Fatal(err)
	}
	if run := readersSee(t, fake, id, rows); run != "r3" {
		t.Errorf("readers see %s", run)
	}
}

func TestAKilledRunIsRepairedByTheNext(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Notes")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	d.maxRequestBytes = 1_000 // a Prepare of several writes
	ctx := context.Background()
	rows := map[string]int{"r1": 4, "r2": 7, "r3": 9, "r4": 2}
	if err := publishRun(t, d, "r1", rows["r1"]); err != nil {
		t.Fatal(err)
	}
	// r2 is killed between Prepare and Commit; r3 midway through Prepare
	// (its third write never arrives). Neither discards anything.
	p, err := d.Plan(ctx, runTables(t, "r2", rows["r2"]), runOf("r2"), runOutputs)
	if err == nil {
		err = p.Prepare(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	if run := readersSee(t, fake, id, rows); run != "r1" || len(stagingTabs(t, fake, id)) != 3 {
		t.Fatalf("after a kill before Commit readers see %s, staging %v", run, stagingTabs(t, fake, id))
	}
	fake.FailAt(sheetsfake.IsWrite, 3, http.StatusBadRequest)
	p, err = d.Plan(ctx, runTables(t, "r3", rows["r3"]), runOf("r3"), runOutputs)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Prepare(ctx); err == nil {
		t.Fatal("the third write was refused, yet Prepare succeeded")
	}
	if run := readersSee(t, fake, id, rows); run != "r1" || len(stagingTabs(t, fake, id)) != 3 {
		t.Fatalf("after a kill in Prepare readers see %s, staging %v", run, stagingTabs(t, fake, id))
	}
	// The next run's Plan only reads; its Prepare removes the leftovers.
	from := len(fake.Requests())
	p, err = d.Plan(ctx, runTables(t, "r4", rows["r4"]), runOf("r4"), runOutputs)
	if err != nil {
		t.Fatal(err)
	}
	if w := writes(fake.Requests()[from:]); w != 0 {
		t.Errorf("Plan wrote %d times", w)
	}
	if err := p.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if run := readersSee(t, fake, id, rows); run != "r4" || len(stagingTabs(t, fake, id)) != 0 {
		t.Errorf("readers see %s, staging %v", run, stagingTabs(t, fake, id))
	}
}

func TestPlanFailsBeforeAnyWrite(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	ctx := context.Background()
	plan := func(yaml string) error {
		d := newSheetsDest(t, fake, yaml)
		_, err := d.Plan(ctx, runTables(t, "r1", 3), runOf("r1"), runOutputs)
		return err
	}
	cases := []struct {
		name, yaml string
		status     int
		want       string
	}{
		{"not shared", "spreadsheet_id: " + id + "\n", http.StatusForbidden, "Share the spreadsheet (Editor) with the service account's e-mail address"},
		{"unknown spreadsheet", "spreadsheet_id: nope\n", 0, "No spreadsheet nope: check spreadsheet_id"},
		{"credentials refused", "spreadsheet_id: " + id + "\n", http.StatusUnauthorized, googleauth.Hint401},
		{"unknown table", "spreadsheet_id: " + id + "\ntabs: {kpi_overveiw: Overview}\n", 0, "tabs: kpi_overveiw is not an output table (they are: kpi, accounts)"},
	}
	for _, c := range cases {
		if c.status != 0 {
			fake.FailNext(nil, c.status, 1)
		}
		if err := plan(c.yaml); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
	if w := writes(fake.Requests()); w != 0 {
		t.Errorf("%d writes", w)
	}
}

func TestRefreshSetting(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	if _, err := newDest(t, fake, "spreadsheet_id: "+id+"\nrefresh: nightly\n"); err == nil || !strings.Contains(err.Error(), `refresh must be all_at_once (the default) or tab_by_tab, not "nightly"`) {
		t.Errorf("err = %v", err)
	}
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\nrefresh: tab_by_tab\n")
	ctx := context.Background()
	if err := publishRun(t, d, "r1", 3); err != nil {
		t.Fatal(err)
	}
	p, err := d.Plan(ctx, runTables(t, "r2", 5), runOf("r2"), runOutputs)
	if err != nil {
		t.Fatal(err)
	}
	from := len(fake.Requests())
	if err := p.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Requests()) - from; n != 0 {
		t.Errorf("Prepare sent %d requests with refresh: tab_by_tab", n)
	}
	if err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Per tab (kpi, accounts, _meta in that order): one batch adding its
	// staging tab and writing its rows, then its swap.
	var swapped []string
	for _, r := range fake.Requests()[from:] {
		if strings.Contains(string(r.Body), `"copyPaste"`) {
			swapped = append(swapped, string(r.Body))
		}
	}
	if len(swapped) != 3 || writes(fake.Requests()[from:]) != 6 {
		t.Errorf("%d swaps in %d writes", len(swapped), writes(fake.Requests()[from:]))
	}
	if run := readersSee(t, fake, id, map[string]int{"r2": 5}); run != "r2" {
		t.Errorf("readers see %s", run)
	}
}

// TestTabByTabFitsWhereStagingEveryTabDoesNot: two tabs of 6,002 cells
// fit one after the other, not staged together.
func TestTabByTabFitsWhereStagingEveryTabDoesNot(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1") // 26,000 cells
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	conn := duck(t, `CREATE TABLE a AS SELECT i AS n, 'x' || i AS name FROM range(3000) t(i)`, `CREATE TABLE b AS SELECT * FROM a`)
	if _, err := publish(t, d, conn, "a", "b"); err != nil {
		t.Fatal(err)
	}
	// Sheet1, a, b, _meta (5 x 2) and a reader's tab: 9,990,000 cells.
	bigTab(t, d, id, "Raw", 4_975_993, 2)
	var log bytes.Buffer
	run := runOf("r2")
	run.Logger = slog.New(slog.NewTextHandler(&log, nil))
	_, err := d.Plan(context.Background(), conn, run, connectors.Published{Tables: []string{"a", "b"}})
	if err == nil || !strings.Contains(err.Error(), "would need 10002014 cells to refresh every tab at once") ||
		!strings.Contains(err.Error(), "set refresh: tab_by_tab to refresh one tab after the other (it needs 9996002 cells at most") {
		t.Fatalf("err = %v", err)
	}
	d = newSheetsDest(t, fake, "spreadsheet_id: "+id+"\nrefresh: tab_by_tab\n")
	if _, err := publish(t, d, conn, "a", "b"); err != nil {
		t.Fatal(err)
	}
}

func TestADiscardThatFailsIsLoggedAndRepairedByTheNextRun(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	rows := map[string]int{"r1": 2, "r2": 3, "r3": 4}
	if err := publishRun(t, d, "r1", rows["r1"]); err != nil {
		t.Fatal(err)
	}
	// The swap is refused, then the deletion of the staging tabs.
	swapOrDrop := func(r sheetsfake.Request) bool {
		return strings.Contains(string(r.Body), `"copyPaste"`) || strings.Contains(string(r.Body), `"deleteSheet"`)
	}
	fake.FailNext(swapOrDrop, http.StatusBadRequest, 2)
	var log bytes.Buffer
	run := runOf("r2")
	run.Logger = slog.New(slog.NewTextHandler(&log, nil))
	err := connectors.Publish(context.Background(), d, runTables(t, "r2", rows["r2"]), run, runOutputs)
	if err == nil || !strings.Contains(err.Error(), "swap in the staged tabs (kpi, accounts, _meta)") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(log.String(), "level=WARN msg=\"staging tabs not removed: the next run removes them\"") {
		t.Errorf("log: %s", log.String())
	}
	if run := readersSee(t, fake, id, rows); run != "r1" || len(stagingTabs(t, fake, id)) != 3 {
		t.Fatalf("readers see %s, staging %v", run, stagingTabs(t, fake, id))
	}
	if err := publishRun(t, d, "r3", rows["r3"]); err != nil {
		t.Fatal(err)
	}
	if run := readersSee(t, fake, id, rows); run != "r3" || len(stagingTabs(t, fake, id)) != 0 {
		t.Errorf("readers see %s, staging %v", run, stagingTabs(t, fake, id))
	}
}

func TestATabOfAnotherCaseIsAPlanError(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "KPI")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	_, err := d.Plan(context.Background(), runTables(t, "r1", 2), runOf("r1"), runOutputs)
	if err == nil || !strings.Contains(err.Error(), `table kpi (tab kpi): the spreadsheet has a tab "KPI"`) {
		t.Errorf("err = %v", err)
	}
}

// A spreadsheet shared read-only passes Plan (it can be read) and fails at
// the first write, with the hint, before readers see any change.
func TestAReadOnlyShareFailsAtTheFirstWrite(t *testing.T) {
	fake := sheetsfake.New(t)
	id := fake.CreateSpreadsheet("KPIs", "Sheet1")
	d := newSheetsDest(t, fake, "spreadsheet_id: "+id+"\n")
	rows := map[string]int{"r1": 2, "r2": 3}
	if err := publishRun(t, d, "r1", rows["r1"]); err != nil {
		t.Fatal(err)
	}
	fake.FailNext(sheetsfake.IsWrite, http.StatusForbidden, 1)
	err := publishRun(t, d, "r2", rows["r2"])
	if err == nil || !strings.Contains(err.Error(), "create staging tabs") || !strings.Contains(err.Error(), "Share the spreadsheet (Editor) with the service account") {
		t.Fatalf("err = %v", err)
	}
	if run := readersSee(t, fake, id, rows); run != "r1" || len(stagingTabs(t, fake, id)) != 0 {
		t.Errorf("readers see %s, staging %v", run, stagingTabs(t, fake, id))
	}
}
