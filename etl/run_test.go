package etl_test

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/etl"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFailedRunLeavesOutputsAndWarehouseTables(t *testing.T) {
	w := newWorkspace(t, "")
	first, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(w.dir, "out")
	before := readFile(t, filepath.Join(out, "kpi_overview_monthly.csv"))
	report := readFile(t, filepath.Join(out, "report.html"))

	// October arrives with 3 rows out of 4 broken: 75 % rejected is far above 1 %.
	w.write("establishments_2026-10.csv", "reference,name,archived,has_portal_access,portal views,downloads,shares,salesperson,seats\n"+
		"E1,Alpha,no,yes,1,0,0,Alice,4\nE2,Beta,perhaps,yes,1,0,0,Alice,2\nE3,Gamma,no,yes,lots,0,0,Alice,\nE4,Delta,no\n")
	res, err := w.run(etl.Options{})
	if err == nil {
		t.Fatal("run with 75 % rejected rows succeeded")
	}
	for _, part := range []string{"rows rejected", "above checks.max_reject_pct = 1 %", "publishes nothing",
		"establishments_2026-10.csv:3: column \"archived\"", "establishments_2026-10.csv:4: column \"portal views\""} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}
	if got := readFile(t, filepath.Join(out, "kpi_overview_monthly.csv")); got != before {
		t.Error("out/kpi_overview_monthly.csv changed after a failed run")
	}
	if got := readFile(t, filepath.Join(out, "report.html")); got != report {
		t.Error("out/report.html changed after a failed run")
	}
	entries, _ := os.ReadDir(w.dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".out") {
			t.Errorf("staging folder %s left behind", e.Name())
		}
	}

	db := w.db()
	var status, errText, rowsOut string
	if err := db.QueryRow(`SELECT status, error, rows_out::VARCHAR FROM runs WHERE run_id = ?`, res.RunID).Scan(&status, &errText, &rowsOut); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || !strings.Contains(errText, "max_reject_pct") {
		t.Errorf("runs row: status %q error %q", status, errText)
	}
	var okStatus string
	if err := db.QueryRow(`SELECT status FROM runs WHERE run_id = ?`, first.RunID).Scan(&okStatus); err != nil || okStatus != "success" {
		t.Errorf("first run status %q, %v", okStatus, err)
	}
	// The warehouse still has the first run's KPI tables (3 months, not 4).
	var months int
	if err := db.QueryRow(`SELECT count(*) FROM kpi_overview_monthly`).Scan(&months); err != nil || months != 3 {
		t.Errorf("kpi_overview_monthly has %d months after the failed run, want 3 (%v)", months, err)
	}
	// Its rejects are kept with file, line, column and reason.
	rows, err := db.Query(`SELECT line, coalesce("column", ''), reason FROM rejects WHERE run_id = ? ORDER BY line`, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var line int
		var col, reason string
		rows.Scan(&line, &col, &reason)
		got = append(got, col+"@"+string(rune('0'+line)))
	}
	if strings.Join(got, ",") != "archived@3,portal views@4,@5" {
		t.Errorf("rejects = %v", got)
	}
}

func TestRerunGivesSameRows(t *testing.T) {
	w := newWorkspace(t, "")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	first := readFile(t, filepath.Join(w.dir, "out", "customer_monthly.csv"))
	res, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	second := readFile(t, filepath.Join(w.dir, "out", "customer_monthly.csv"))
	// Only published_at differs between the two runs.
	strip := func(s string) string {
		recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := slices.Index(recs[0], "published_at")
		var out []string
		for _, r := range recs {
			out = append(out, strings.Join(slices.Delete(r, col, col+1), ","))
		}
		return strings.Join(out, "\n")
	}
	if strip(first) != strip(second) {
		t.Error("a second run over the same inputs published different rows")
	}
	if res.RowsOut["customer_monthly"] != 17 || res.RowsIn["raw_activity"] != 23 {
		t.Errorf("rows out %v in %v", res.RowsOut, res.RowsIn)
	}
	var n int
	w.db().QueryRow(`SELECT count(*) FROM runs WHERE status = 'success'`).Scan(&n)
	if n != 2 {
		t.Errorf("%d successful runs recorded, want 2", n)
	}
}

func TestShrinkingInputFailsUnlessAllowed(t *testing.T) {
	w := newWorkspace(t, "")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	// The activity export of August and September went missing: 23 → 7 rows.
	os.Remove(filepath.Join(w.dir, "input", "activity_2026-08.csv"))
	os.Remove(filepath.Join(w.dir, "input", "activity_2026-09.csv"))
	_, err := w.run(etl.Options{})
	if err == nil || !strings.Contains(err.Error(), "raw_activity shrank from 23 to 7 rows") || !strings.Contains(err.Error(), "--allow-shrink") {
		t.Fatalf("err = %v", err)
	}
	res, err := w.run(etl.Options{AllowShrink: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) == 0 || !strings.Contains(strings.Join(res.Warnings, " "), "allowed by --allow-shrink") {
		t.Errorf("warnings = %v", res.Warnings)
	}
}

func TestRunsRowRecordsCounts(t *testing.T) {
	w := newWorkspace(t, "")
	res, err := w.run(etl.Options{Trigger: "manual", Job: "nightly"})
	if err != nil {
		t.Fatal(err)
	}
	var job, trigger, status, in, out, ws, we string
	var ended sql.NullTime
	var errText sql.NullString
	err = w.db().QueryRow(`SELECT job, trigger, status, rows_in::VARCHAR, rows_out::VARCHAR, window_start::VARCHAR, window_end::VARCHAR, ended_at, error
		FROM runs WHERE run_id = ?`, res.RunID).Scan(&job, &trigger, &status, &in, &out, &ws, &we, &ended, &errText)
	if err != nil {
		t.Fatal(err)
	}
	if job != "nightly" || trigger != "manual" || status != "success" || ws != "2026-07-01" || we != "2026-09-01" || !ended.Valid || errText.Valid {
		t.Errorf("runs row: %s %s %s %s..%s ended=%v error=%v", job, trigger, status, ws, we, ended, errText)
	}
	var rowsIn, rowsOut map[string]int64
	json.Unmarshal([]byte(in), &rowsIn)
	json.Unmarshal([]byte(out), &rowsOut)
	// 5 + 6 + 6 establishment rows, 12 users, 7 + 7 + 9 activity rows.
	if rowsIn["raw_customers"] != 17 || rowsIn["raw_users"] != 12 || rowsIn["raw_activity"] != 23 {
		t.Errorf("rows_in = %v", rowsIn)
	}
	if rowsOut["kpi_overview_monthly"] != 3 || rowsOut["kpi_salesperson_monthly"] != 6 || rowsOut["kpi_daily"] != 89 || rowsOut["customer_monthly"] != 17 {
		t.Errorf("rows_out = %v", rowsOut)
	}
}

func TestSecondRunWhileLockedFailsAtOnce(t *testing.T) {
	w := newWorkspace(t, "")
	lock, err := etl.AcquireLock(filepath.Join(filepath.Dir(w.cfg.Warehouse), "lock"), "holder-run", date(2026, 10, 15))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	_, err = w.run(etl.Options{})
	if !errors.Is(err, etl.ErrLocked) || !strings.Contains(err.Error(), "holder-run") || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("err = %v", err)
	}
}

func TestExcludedCustomers(t *testing.T) {
	w := newWorkspace(t, "exclude:\n  customers: [E4]\n  email_domains: [uptake-demo.internal]\n")
	res, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Dropped: customer E4, its users u6, u7, u8 and the internal u11.
	if res.Excluded.Customers != 1 || res.Excluded.Users != 4 {
		t.Errorf("excluded = %+v, want 1 customer and 4 users", res.Excluded)
	}
	// Without E4, July has E1, E2, E5 activated and active (E3 has no access):
	// score 15 + 3 + 0 + 5 = 23, users E1 2 + E2 1 + E5 1 = 4.
	var customers, activated, active, score, users int64
	if err := w.db().QueryRow(`SELECT customers, activated_customers, active_customers, score, users FROM kpi_overview_monthly WHERE month = '2026-07-01'`).
		Scan(&customers, &activated, &active, &score, &users); err != nil {
		t.Fatal(err)
	}
	if customers != 4 || activated != 3 || active != 3 || score != 23 || users != 4 {
		t.Errorf("July without E4: customers %d activated %d active %d score %d users %d", customers, activated, active, score, users)
	}
}

func TestRejectLimitIsPerTable(t *testing.T) {
	w := newWorkspace(t, "")
	// 500 more good activity rows: one bad establishment row is 1 of 579 rows
	// read in all (0.2 %), but 1 of 18 establishment rows (5.6 %).
	var b strings.Builder
	b.WriteString("date,user_id,customer_reference,event,count\n")
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&b, "2026-10-02,u1,E1,event%d,1\n", i)
	}
	w.write("activity_2026-10.csv", b.String())
	w.write("establishments_2026-09.csv", readFile(t, filepath.Join(w.dir, "input", "establishments_2026-09.csv"))+"E7,Eta,maybe,yes,1,0,0,Bob,1\n")
	_, err := w.run(etl.Options{})
	if err == nil || !strings.Contains(err.Error(), "raw_customers: 1 of 18 rows rejected (5.56 %)") ||
		!strings.Contains(err.Error(), `establishments_2026-09.csv:8: column "archived": "maybe" is not a yes/no value`) {
		t.Fatalf("err = %v", err)
	}
}

func TestLateExportFailsTheRun(t *testing.T) {
	w := newWorkspace(t, "")
	_, err := w.run(etl.Options{AsOf: date(2026, 11, 20)})
	// By default the October export is due by November 10.
	if err == nil || !strings.Contains(err.Error(), "the establishments export for 2026-10 is late") {
		t.Fatalf("err = %v", err)
	}
}

func TestEndedMonthWaitingForItsExport(t *testing.T) {
	w := newWorkspace(t, "")
	w.write("activity_2026-10.csv", "date,user_id,customer_reference,event,count\n2026-10-05,u1,E1,portal_view,2\n")
	// November 3: October is over, its export is due by the 10th. The run
	// succeeds and shows October as to date, from September's customers.
	res, err := w.run(etl.Options{AsOf: date(2026, 11, 3)})
	if err != nil {
		t.Fatal(err)
	}
	var complete bool
	var customers int64
	w.scan(`SELECT complete, customers FROM kpi_overview_monthly WHERE month = '2026-10-01'`, &complete, &customers)
	if complete || customers != 5 {
		t.Errorf("October: complete=%v customers=%d, want to date with September's 5 customers", complete, customers)
	}
	if res.Headline == nil || res.Headline.Month.Format("2006-01") != "2026-09" {
		t.Errorf("headline month = %+v, want September (the latest complete month)", res.Headline)
	}
	// On the 11th it is late.
	_, err = w.run(etl.Options{AsOf: date(2026, 11, 11)})
	if err == nil || !strings.Contains(err.Error(), "the establishments export for 2026-10 is late") {
		t.Fatalf("err = %v", err)
	}
	// Earlier exports missing altogether are late even during the grace days.
	_, err = w.run(etl.Options{AsOf: date(2026, 12, 2)})
	if err == nil || !strings.Contains(err.Error(), "the establishments export for 2026-10 is late") {
		t.Fatalf("err = %v", err)
	}
}

func TestMonthToDate(t *testing.T) {
	w := newWorkspace(t, "")
	// October so far: u1 of E1 viewed 2 pages; the October export does not exist yet.
	w.write("activity_2026-10.csv", "date,user_id,customer_reference,event,count\n2026-10-05,u1,E1,portal_view,2\n2026-10-16,u2,E1,login,1\n")
	if _, err := w.run(etl.Options{}); err != nil { // as of 2026-10-15
		t.Fatal(err)
	}
	// October carries September's customers forward: E1..E4 and E6 activated (E5 archived).
	// Only E1 scores (2, from activity: the export has no October counts) → 1 active of 5.
	// The month to date takes no part in churn risks or MoM. u2's login on Oct 16 is after
	// the as-of date and is ignored. DAU: 1 user on 1 of the 14 days elapsed.
	var complete bool
	var customers, activated, active, score, churn, mau int64
	var rate, avgDAU float64
	var mom sql.NullFloat64
	err := w.db().QueryRow(`SELECT complete, customers, activated_customers, active_customers, monthly_active_rate, score, score_mom, churn_risks, mau, avg_dau
		FROM kpi_overview_monthly WHERE month = '2026-10-01'`).Scan(&complete, &customers, &activated, &active, &rate, &score, &mom, &churn, &mau, &avgDAU)
	if err != nil {
		t.Fatal(err)
	}
	if complete || customers != 5 || activated != 5 || active != 1 || rate != 0.2 || score != 2 || mom.Valid || churn != 0 || mau != 1 || math.Abs(avgDAU-1.0/14) > eps {
		t.Errorf("October to date: complete=%v customers=%d activated=%d active=%d rate=%v score=%d mom=%v churn=%d mau=%d avg_dau=%v",
			complete, customers, activated, active, rate, score, mom, churn, mau, avgDAU)
	}
	// September, now with a following month, is unchanged.
	var sepChurn int64
	w.db().QueryRow(`SELECT churn_risks FROM kpi_overview_monthly WHERE month = '2026-09-01'`).Scan(&sepChurn)
	if sepChurn != 2 {
		t.Errorf("September churn risks = %d, want 2", sepChurn)
	}
}

func TestInterruptedRunIsRecordedAsFailed(t *testing.T) {
	w := newWorkspace(t, "")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	// A run killed with kill -9 leaves its row 'running' (and its lock released by the kernel).
	db, err := sql.Open("duckdb", w.cfg.Warehouse)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO runs (run_id, job, trigger, started_at, status) VALUES ('killed', 'default', 'manual', now(), 'running')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	var status, errText string
	if err := w.db().QueryRow(`SELECT status, error FROM runs WHERE run_id = 'killed'`).Scan(&status, &errText); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || !strings.Contains(errText, "interrupted") {
		t.Errorf("killed run: %s %q", status, errText)
	}
}

func TestUsersSnapshotsAreKept(t *testing.T) {
	w := newWorkspace(t, "")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	// The platform overwrote the users export: yesterday's file is gone, and
	// today's shows u4 (E2) archived without a date, and no longer lists u3 (E1).
	users := readFile(t, filepath.Join(w.dir, "input", "users_2026-10-01.csv"))
	os.Remove(filepath.Join(w.dir, "input", "users_2026-10-01.csv"))
	users = strings.Replace(users, "u4,E2,dan@beta.example,2026-06-01,2026-09-01,,no", "u4,E2,dan@beta.example,2026-06-01,2026-09-01,,yes", 1)
	users = strings.Replace(users, "u3,E1,cat@alpha.example,2026-08-10,2026-08-12,,no\n", "", 1)
	w.write("users_2026-10-10.csv", users)
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	db := w.db()
	// One row per user and month is kept: u3's October 1 row, everyone else's October 10 one.
	var rows int
	var u3Snapshot string
	db.QueryRow(`SELECT count(*) FROM raw_users`).Scan(&rows)
	db.QueryRow(`SELECT snapshot_date::VARCHAR FROM raw_users WHERE user_id = 'u3'`).Scan(&u3Snapshot)
	if rows != 12 || u3Snapshot != "2026-10-01" {
		t.Errorf("raw_users: %d rows, u3 at %q; want 12 rows and u3 kept from 2026-10-01", rows, u3Snapshot)
	}
	// u4 counts as deactivated from the first snapshot showing it archived, u3
	// from the first snapshot without it; both still count in September.
	deactivated := map[string]string{}
	r, err := db.Query(`SELECT k.user_id, u.deactivated_at::VARCHAR FROM stg_users u JOIN stg_user_keys k USING (user_key) WHERE k.user_id IN ('u3', 'u4')`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var u, d string
		r.Scan(&u, &d)
		deactivated[u] = d
	}
	r.Close()
	if deactivated["u3"] != "2026-10-10" || deactivated["u4"] != "2026-10-10" {
		t.Errorf("deactivated_at = %v, want u3 and u4 on 2026-10-10", deactivated)
	}
	var sepUsers int64
	db.QueryRow(`SELECT users FROM kpi_overview_monthly WHERE month = '2026-09-01'`).Scan(&sepUsers)
	if sepUsers != 10 {
		t.Errorf("September users = %d, want 10 as before", sepUsers)
	}
	db.Close()

	// Earlier snapshots arrive: one of August, two of September (u5 gone
	// from the second). Only September has two: it keeps each user's latest
	// row (u5's of the 5th); August and October keep theirs.
	w.write("users_2026-08-01.csv", users)
	w.write("users_2026-09-05.csv", users)
	w.write("users_2026-09-25.csv", strings.Replace(users, "u5,E3,eve@gamma.example,2026-08-01,2026-08-12,,no\n", "", 1))
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	got := w.cells(`SELECT strftime(snapshot_date, '%Y-%m-%d') || ':' || count(*) || ':' || coalesce(string_agg(user_id, ' ' ORDER BY user_id) FILTER (WHERE user_id IN ('u3', 'u5')), '')
		FROM raw_users GROUP BY snapshot_date ORDER BY snapshot_date`)
	want := []string{"2026-08-01:11:u5", "2026-09-05:1:u5", "2026-09-25:10:", "2026-10-01:1:u3", "2026-10-10:11:u5"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("raw_users by snapshot = %v, want %v", got, want)
	}
}

// TestASnapshotAfterTheAsOfDateReplacesNone: October has snapshots of the
// 1st and the 20th (u3 moved to E2 on the 20th). As of the 15th, the 1st's
// is the users' latest: u3 is with E1, and the month keeps both of u3's
// rows (the 20th's for a run as of a later date). As of the 25th, the
// 20th's replaces the 1st's.
func TestASnapshotAfterTheAsOfDateReplacesNone(t *testing.T) {
	w := newWorkspace(t, "")
	users := readFile(t, filepath.Join(w.dir, "input", "users_2026-10-01.csv"))
	w.write("users_2026-10-20.csv", strings.Replace(users, "u3,E1,", "u3,E2,", 1))
	for _, c := range []struct {
		asOf      time.Time
		customer  string
		snapshots string
	}{
		{date(2026, 10, 15), "E1", "2026-10-01 2026-10-20"},
		{date(2026, 10, 25), "E2", "2026-10-20"},
	} {
		w.mustRun(c.asOf)
		var customer, snapshots string
		w.scan(`SELECT u.customer_ref FROM stg_users u JOIN stg_user_keys k USING (user_key) WHERE k.user_id = 'u3'`, &customer)
		w.scan(`SELECT string_agg(snapshot_date::VARCHAR, ' ' ORDER BY snapshot_date) FROM raw_users WHERE user_id = 'u3'`, &snapshots)
		if customer != c.customer || snapshots != c.snapshots {
			t.Errorf("as of %s: u3 with %q, its rows of %q; want %q and %q",
				c.asOf.Format(time.DateOnly), customer, snapshots, c.customer, c.snapshots)
		}
	}
}

// sourcesYAML returns the extra sources in extraYAML (lines starting with
// "  - name:" up to the next top-level key), otherYAML the rest: tests add
// sources to the workspace's list that way.
func splitSources(extra string) (src, rest string) {
	lines := strings.Split(extra, "\n")
	in := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "  - name:"):
			in = true
		case l != "" && !strings.HasPrefix(l, " "):
			in = false
		}
		if in {
			src += l + "\n"
		} else if l != "" {
			rest += l + "\n"
		}
	}
	return src, rest
}

func TestFailureIsNotifiedAndADownWebhookDoesNotFailTheRun(t *testing.T) {
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Text string }
		json.NewDecoder(r.Body).Decode(&body)
		got = append(got, body.Text)
	}))
	defer hook.Close()
	w := newWorkspace(t, "notify:\n  webhook_url: "+hook.URL+"/hooks/secret\n")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("a success was notified without on_success: %v", got)
	}
	// A broken export: the failure is sent with the run's facts.
	w.write("establishments_2026-10.csv", "reference,archived\nE1,no\n")
	res, err := w.run(etl.Options{})
	if err == nil {
		t.Fatal("the run did not fail")
	}
	if len(got) != 1 || !strings.Contains(got[0], "uptake run "+res.RunID+" FAILED") || !strings.Contains(got[0], `missing required column "has_portal_access"`) ||
		!strings.Contains(got[0], "Nothing was published") {
		t.Errorf("notifications = %v", got)
	}
	// Of a scheduled run's three tries, the first failure is notified (it
	// will be retried), the second is not, the last is.
	for _, c := range []struct {
		attempt, notifications int
		text                   string
	}{{1, 2, "(attempt 1 of 3, it will be retried)"}, {2, 2, ""}, {3, 3, "(attempt 3 of 3)"}} {
		if _, err := w.run(etl.Options{Attempt: c.attempt, Attempts: 3}); err == nil || len(got) != c.notifications {
			t.Errorf("try %d of 3: err %v, notifications %d, want %d", c.attempt, err, len(got), c.notifications)
		} else if c.text != "" && !strings.Contains(got[len(got)-1], c.text) {
			t.Errorf("try %d of 3: %q lacks %q", c.attempt, got[len(got)-1], c.text)
		}
	}
	// A webhook that is down changes nothing to a run's outcome.
	os.Remove(filepath.Join(w.dir, "input", "establishments_2026-10.csv"))
	hook.Close()
	w.cfg.Notify.OnSuccess = true
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatalf("a down webhook failed the run: %v", err)
	}
}

// TestEachStepLogsOneLineAndNamesItsFailure: a run logs one "step done"
// line per step, in the run's order, with its counts and duration; a step
// that fails prefixes its error with its name.
func TestEachStepLogsOneLineAndNamesItsFailure(t *testing.T) {
	w := newWorkspace(t, "")
	var buf bytes.Buffer
	if _, err := w.run(etl.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}); err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, rec := range logRecords(t, &buf) {
		if rec["msg"] != "step done" {
			continue
		}
		steps = append(steps, fmt.Sprint(rec["step"]))
		if rec["duration"] == nil || rec["run_id"] == nil {
			t.Errorf("step line without duration or run id: %v", rec)
		}
		if rec["step"] == "extract" && rec["rows"] == nil {
			t.Errorf("the extract's line has no rows: %v", rec)
		}
	}
	if got := strings.Join(steps, " "); got != "setup extract load transform test publish swap" {
		t.Errorf("steps logged: %s", got)
	}
	// Establishments of September without its header's required column.
	w.write("establishments_2026-09.csv", "reference,name\nE1,Alpha\n")
	_, err := w.run(etl.Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "extract: ") || !strings.Contains(err.Error(), "establishments_2026-09.csv") {
		t.Errorf("error = %v, want it to start with the step's name", err)
	}
}

// TestThePublishCheckpointsTheWarehouseBesideIt: the warehouse is
// checkpointed while the publish runs, on a connection of its own (DuckDB
// takes it beside the publish's reads), not left to the close.
func TestThePublishCheckpointsTheWarehouseBesideIt(t *testing.T) {
	w := newWorkspace(t, "")
	var buf bytes.Buffer
	if _, err := w.run(etl.Options{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}); err != nil {
		t.Fatal(err)
	}
	var checkpointed, left int
	for _, rec := range logRecords(t, &buf) {
		switch {
		case rec["msg"] == "checkpointed" && rec["step"] == "publish":
			checkpointed++
		case rec["msg"] == "checkpoint left to the close":
			left++
			t.Errorf("DuckDB refused the checkpoint: %v", rec)
		}
	}
	if checkpointed != 1 || left != 0 {
		t.Errorf("%d checkpoints beside the publish, %d left to the close; want 1 and 0", checkpointed, left)
	}
}

// logRecords are the records of a run's JSON log, in order.
func logRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	return recs
}
