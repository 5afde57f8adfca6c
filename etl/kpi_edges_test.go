package etl_test

// Edge cases of the KPI definitions, on variants of the testdata/kpi fixture
// (see kpi_test.go for its table of scores and users).

import (
	"database/sql"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/etl"
)

func customerScores(t *testing.T, db *sql.DB, month string) map[string]int64 {
	t.Helper()
	rows, err := db.Query(`SELECT customer_ref, score FROM customer_monthly WHERE month = ?::DATE`, month)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var ref string
		var score int64
		rows.Scan(&ref, &score)
		out[ref] = score
	}
	return out
}

func TestScoreEventsTheExportDoesNotCount(t *testing.T) {
	// Only logins score: the export's views/downloads/shares count for nothing,
	// logins come from the activity export. July logins: u1 (E1) on Jul 2 and 3, u9 (E5) on Jul 20.
	w := newWorkspace(t, "kpi:\n  score_events: [login]\n")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	got := customerScores(t, w.db(), "2026-07-01")
	if got["E1"] != 2 || got["E5"] != 1 || got["E2"] != 0 || got["E4"] != 0 {
		t.Errorf("July scores = %v, want E1 2, E5 1, E2 0, E4 0", got)
	}
	var active int64
	w.db().QueryRow(`SELECT active_customers FROM kpi_overview_monthly WHERE month = '2026-07-01'`).Scan(&active)
	if active != 2 {
		t.Errorf("July active customers = %d, want 2 (E1, E5)", active)
	}
}

func TestScoreEventsAddedToTheExportCounts(t *testing.T) {
	// The export's 15 for E1 in July, plus its 2 logins; E5: 5 + 1 login.
	w := newWorkspace(t, "kpi:\n  score_events: [portal_view, download, share, login]\n")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	got := customerScores(t, w.db(), "2026-07-01")
	if got["E1"] != 17 || got["E5"] != 6 || got["E4"] != 60 {
		t.Errorf("July scores = %v, want E1 17, E5 6, E4 60", got)
	}
}

func TestMoMWithReassignedAndVanishedCustomers(t *testing.T) {
	w := newWorkspace(t, "")
	// September: E6 moves from Bob to Alice, and E2 is no longer in the export.
	sep := readFile(t, filepath.Join(w.dir, "input", "establishments_2026-09.csv"))
	sep = strings.Replace(sep, "E2,Beta,no,yes,1,0,0,Alice,2\n", "", 1)
	sep = strings.Replace(sep, "E6,Zeta,no,yes,3,1,0,Bob,2", "E6,Zeta,no,yes,3,1,0,Alice,2", 1)
	w.write("establishments_2026-09.csv", sep)
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	// Each scope is compared with its own total last month:
	// overall 25+1+6+0+4 = 36 vs August's 42; Alice E1+E3+E6 = 25+1+4 = 30 vs her
	// August 10+0+2 = 12; Bob E4+E5 = 6+0 = 6 vs his August 25+4+1 = 30.
	want := map[string][2]float64{
		"all":   {36, (36.0 - 42) / 42},
		"Alice": {30, (30.0 - 12) / 12},
		"Bob":   {6, (6.0 - 30) / 30},
	}
	rows, err := w.db().Query(`SELECT 'all', score, score_mom FROM kpi_overview_monthly WHERE month = '2026-09-01'
		UNION ALL SELECT salesperson, score, score_mom FROM kpi_salesperson_monthly WHERE month = '2026-09-01'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var who string
		var score, mom float64
		rows.Scan(&who, &score, &mom)
		n++
		if w, ok := want[who]; !ok || score != w[0] || math.Abs(mom-w[1]) > eps {
			t.Errorf("%s: score %v mom %v, want %v", who, score, mom, want[who])
		}
	}
	if n != 3 {
		t.Errorf("%d rows, want 3", n)
	}
}

func TestChampionMinScore(t *testing.T) {
	// Champions: the top 10 % (one customer a month) and every active customer scoring >= 10:
	// July E4 (60) and E1 (15); August E4 (25) and E1 (10); September only E1 (25).
	w := newWorkspace(t, "kpi:\n  champion_min_score: 10\n")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	rows, err := w.db().Query(`SELECT strftime(month, '%m') || ':' || string_agg(customer_ref, ',' ORDER BY customer_ref)
		FROM customer_monthly WHERE champion GROUP BY month ORDER BY month`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	if strings.Join(got, " ") != "07:E1,E4 08:E1,E4 09:E1" {
		t.Errorf("champions = %v", got)
	}
}

func TestUserArchivedThenActiveAgain(t *testing.T) {
	w := newWorkspace(t, "")
	// An older snapshot shows u4 (E2) archived without a date; the latest shows it active again.
	w.write("users_2026-08-01.csv", "user_id,customer_reference,email,created,first_login,deactivated,archived\nu4,E2,dan@beta.example,2026-06-01,,,yes\n")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	var users int64
	w.db().QueryRow(`SELECT users FROM customer_monthly WHERE month = '2026-09-01' AND customer_ref = 'E2'`).Scan(&users)
	if users != 1 {
		t.Errorf("E2 users in September = %d, want 1 (u4 is active again)", users)
	}
}

func TestUnknownUserAndUnknownCreationDate(t *testing.T) {
	w := newWorkspace(t, "")
	// "ghost" is active for E1 in September but missing from the users export;
	// u12's creation date is unknown (it then counts from the start).
	act := readFile(t, filepath.Join(w.dir, "input", "activity_2026-09.csv"))
	w.write("activity_2026-09.csv", act+"2026-09-03,ghost,E1,portal_view,1\n")
	usersCSV := readFile(t, filepath.Join(w.dir, "input", "users_2026-10-01.csv"))
	w.write("users_2026-10-01.csv", strings.Replace(usersCSV, "u12,E1,kim@alpha.example,2026-09-20,", "u12,E1,kim@alpha.example,,", 1))
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	db := w.db()
	// September: MAU counts ghost (8 + 1 = 9); active users do not (still 7, of 10
	// users here: this workspace does not exclude the internal u11).
	// August: u12 now counts as a user of E1 (3 + 1 = 4), inactive: E1 has 2 of 4 active.
	var mau, activeUsers, users int64
	db.QueryRow(`SELECT mau, active_users, users FROM kpi_overview_monthly WHERE month = '2026-09-01'`).Scan(&mau, &activeUsers, &users)
	if mau != 9 || activeUsers != 7 || users != 10 {
		t.Errorf("September mau/active/users = %d/%d/%d, want 9/7/10", mau, activeUsers, users)
	}
	var e1Users, e1Active int64
	db.QueryRow(`SELECT users, active_users FROM customer_monthly WHERE month = '2026-08-01' AND customer_ref = 'E1'`).Scan(&e1Users, &e1Active)
	if e1Users != 4 || e1Active != 2 {
		t.Errorf("E1 August users/active = %d/%d, want 4/2", e1Users, e1Active)
	}
}

func TestExportWithoutSomeCountColumns(t *testing.T) {
	w := newWorkspace(t, "")
	// September's export has no shares column: shares come from the activity export
	// (u1 of E1 shared 5 on Sep 15), views and downloads still from the export.
	sep := readFile(t, filepath.Join(w.dir, "input", "establishments_2026-09.csv"))
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(sep), "\n") {
		f := strings.Split(line, ",")
		b.WriteString(strings.Join(append(f[:6:6], f[7:]...), ",") + "\n")
	}
	w.write("establishments_2026-09.csv", b.String())
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	got := customerScores(t, w.db(), "2026-09-01")
	// E1: 20 views + 0 downloads (export) + 5 shares (activity); E6: 3 + 1 + 0.
	if got["E1"] != 25 || got["E6"] != 4 || got["E4"] != 6 {
		t.Errorf("September scores = %v, want E1 25, E6 4, E4 6", got)
	}
}

func TestUserArchivedTwice(t *testing.T) {
	w := newWorkspace(t, "")
	h := "user_id,customer_reference,email,created,first_login,deactivated,archived\n"
	w.write("users_2026-08-01.csv", h+"u4,E2,dan@beta.example,2026-06-01,,,yes\n")
	w.write("users_2026-09-01.csv", h+"u4,E2,dan@beta.example,2026-06-01,,,no\n")
	users := readFile(t, filepath.Join(w.dir, "input", "users_2026-10-01.csv"))
	w.write("users_2026-10-01.csv", strings.Replace(users, "u4,E2,dan@beta.example,2026-06-01,2026-09-01,,no", "u4,E2,dan@beta.example,2026-06-01,2026-09-01,,yes", 1))
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	// Archived again since the October 1 snapshot: not since August.
	var deactivated string
	w.db().QueryRow(`SELECT u.deactivated_at::VARCHAR FROM stg_users u JOIN stg_user_keys k USING (user_key) WHERE k.user_id = 'u4'`).Scan(&deactivated)
	if deactivated != "2026-10-01" {
		t.Errorf("u4 deactivated_at = %q, want 2026-10-01", deactivated)
	}
}

func TestDeactivationDateClearedInTheLatestSnapshot(t *testing.T) {
	w := newWorkspace(t, "")
	// An older snapshot had a deactivation date for u4 (E2); the latest has none.
	w.write("users_2026-08-01.csv", "user_id,customer_reference,email,created,first_login,deactivated,archived\nu4,E2,dan@beta.example,2026-06-01,,2026-07-15,no\n")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	var users int64
	w.db().QueryRow(`SELECT users FROM customer_monthly WHERE month = '2026-09-01' AND customer_ref = 'E2'`).Scan(&users)
	if users != 1 {
		t.Errorf("E2 users in September = %d, want 1 (the latest snapshot has no deactivation date)", users)
	}
}

func TestAUserDeactivatedBeforeItWasCreatedCountsInNoMonth(t *testing.T) {
	// u13 (E2) was created on September 5, and its row says it was
	// deactivated on July 15: an export that contradicts itself. It counts in
	// no month, and E2 keeps its one user, u4, from July to September. (A
	// running sum of +1 at creation and -1 at deactivation made E2 0 users
	// in July and August.)
	w := newWorkspace(t, "")
	users := readFile(t, filepath.Join(w.dir, "input", "users_2026-10-01.csv"))
	w.write("users_2026-10-01.csv", users+"u13,E2,lea@beta.example,2026-09-05,,2026-07-15,no\n")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	var e2 string
	w.scan(`SELECT string_agg(strftime(month, '%Y-%m') || ': ' || users, ', ' ORDER BY month) FROM customer_monthly
		WHERE customer_ref = 'E2' AND month BETWEEN '2026-07-01' AND '2026-09-01'`, &e2)
	if want := "2026-07: 1, 2026-08: 1, 2026-09: 1"; e2 != want {
		t.Errorf("E2's users: %s; want %s (u4; u13 counts in no month)", e2, want)
	}
}
