package etl_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/etl"
)

// actionList reads the published action list as "month salesperson position
// customer play priority | reason".
func actionList(t *testing.T, dir string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(dir, "out", "action_list.csv"))), "\n")
	if lines[0] != "month,customer_ref,name,salesperson,play,reason,suggested_task,priority,position,published_at" {
		t.Fatalf("header %q", lines[0])
	}
	var out []string
	for _, rec := range csvRecords(t, strings.Join(lines, "\n"))[1:] {
		out = append(out, rec[0]+" "+rec[3]+" "+rec[8]+" "+rec[1]+" "+rec[4]+" "+rec[7]+" | "+rec[5])
	}
	return out
}

// The action list of September 2026 on the kpi fixture (see kpi_test.go and
// kpi_flows_test.go for every figure), rep by rep, priority first, then the
// plays in their order (usage drop before low utilization), the most severe
// first within a play.
//
//	E3: score 2 → 1, -50 % (the alert is at 50 %), still active; its seats are unknown, so no
//	utilization play. E2: 1 active user (u4) of 2 seats = 50 % < 60 %. E1: the top customer
//	(25), rank 1 of 5 active. E4: score 25 → 6 = -76 %; 1 of 3 seats = 33 %, before E6's
//	1 of 2 = 50 %. E5 is archived: no play.
func TestActionListSeptember(t *testing.T) {
	_, _, dir := runFixture(t, "kpi", date(2026, 10, 15))
	want := []string{
		"2026-09-01 Alice 1 E3 usage_drop 2 | score 1, down 50 % from 2 the month before (alert at 50 %)",
		"2026-09-01 Alice 2 E2 low_utilization 2 | utilization 50 % (1 of 2 seats), below 60 %",
		"2026-09-01 Alice 3 E1 champion 3 | score 25, rank 1 of 5 active customers",
		"2026-09-01 Bob 1 E4 usage_drop 2 | score 6, down 76 % from 25 the month before (alert at 50 %)",
		"2026-09-01 Bob 2 E4 low_utilization 2 | utilization 33 % (1 of 3 seats), below 60 %",
		"2026-09-01 Bob 3 E6 low_utilization 2 | utilization 50 % (1 of 2 seats), below 60 %",
	}
	if got := actionList(t, dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// August, when September's export is not in yet (5 October, within the
// grace days).
//
//	E2: score 3 → 0, no longer active (churn risk, priority 1); 0 of 2 seats. E1: 2 of 4 = 50 %.
//	E5: 1 active user in July, none of its 1 user in August (lost active users, priority 1);
//	0 of 5 seats. E4: 60 → 25 = -58.3 % → "down 58 %"; 1 of 3 seats = 33 %; it is the top
//	customer, but a champion with a churn risk is not thanked. E6: 1 of 2 seats = 50 %.
//	E3 has no seats. July is the first month of data: customers activated then were
//	onboarded before it, so nobody is judged for low engagement in August.
//	Low utilization, lowest first: E2 0 % then E1 (Alice); E5 0 %, E4 33 %, E6 50 % (Bob).
func TestActionListAugust(t *testing.T) {
	w := newWorkspace(t, "exclude:\n  email_domains: [uptake-demo.internal]\n") // as testdata/kpi/uptake.yaml
	os.Remove(filepath.Join(w.dir, "input", "establishments_2026-09.csv"))
	if _, err := w.run(etl.Options{AsOf: date(2026, 10, 5)}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2026-08-01 Alice 1 E2 churn_risk 1 | no longer active: score 0 after 3 the month before",
		"2026-08-01 Alice 2 E2 low_utilization 2 | utilization 0 % (0 of 2 seats), below 60 %",
		"2026-08-01 Alice 3 E1 low_utilization 2 | utilization 50 % (2 of 4 seats), below 60 %",
		"2026-08-01 Bob 1 E5 lost_active_users 1 | no active user left of 1; 1 active the month before",
		"2026-08-01 Bob 2 E4 usage_drop 2 | score 25, down 58 % from 60 the month before (alert at 50 %)",
		"2026-08-01 Bob 3 E5 low_utilization 2 | utilization 0 % (0 of 5 seats), below 60 %",
		"2026-08-01 Bob 4 E4 low_utilization 2 | utilization 33 % (1 of 3 seats), below 60 %",
		"2026-08-01 Bob 5 E6 low_utilization 2 | utilization 50 % (1 of 2 seats), below 60 %",
	}
	if got := actionList(t, w.dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Plays that say what happened: E4 loses its portal access in September
// (not archived) after a score of 25: not "stopped using the portal". A new
// customer E7, activated in August with 2 seats and a user who never uses
// the portal, is in its first month after onboarding in September, not
// active: low engagement (and 0 of 2 seats).
func TestActionListReasons(t *testing.T) {
	w := newWorkspace(t, "exclude:\n  email_domains: [uptake-demo.internal]\n")
	aug := readFile(t, filepath.Join(w.dir, "input", "establishments_2026-08.csv"))
	w.write("establishments_2026-08.csv", aug+"E7,Eta,no,yes,0,0,0,Bob,2\n")
	sep := readFile(t, filepath.Join(w.dir, "input", "establishments_2026-09.csv"))
	sep = strings.Replace(sep, "E4,Delta,no,yes,6,0,0,Bob,3", "E4,Delta,no,no,6,0,0,Bob,3", 1)
	w.write("establishments_2026-09.csv", sep+"E7,Eta,no,yes,0,0,0,Bob,2\n")
	users := readFile(t, filepath.Join(w.dir, "input", "users_2026-10-01.csv"))
	w.write("users_2026-10-01.csv", users+"u13,E7,lee@eta.example,2026-08-03,,,no\n")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(actionList(t, w.dir), "\n")
	for _, want := range []string{
		"2026-09-01 Bob 1 E4 churn_risk 1 | portal access removed (score 6 after 25 the month before)",
		"2026-09-01 Bob 2 E7 low_engagement 2 | onboarded in August 2026; not active (score 0)",
		"2026-09-01 Bob 3 E7 low_utilization 2 | utilization 0 % (0 of 2 seats), below 60 %",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("action list lacks %q:\n%s", want, got)
		}
	}
}

func csvRecords(t *testing.T, text string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// September with no activity at all: its export counts nothing and its
// activity file is gone. Nobody is active (rate 0 of 5 activated, usage
// retention 0 of August's 5 active, MAU 0, DAU/MAU NULL: no division by
// zero); E5's archiving is the month's churn (1 of 6).
//
// The plays, rep by rep: every customer active in August (E1 10, E3 2, E4 25,
// E6 1) is a churn risk, highest score first; those that had active users
// (E1 2, E3 1, E4 1, E6 1) lost them all; E3 and E6, onboarded in August, are
// not active in their first month after; every customer with seats is at
// 0 %, the most seats first (E1 4, E2 2; E4 3, E6 2). No champion, no drop.
func TestActionListOfAMonthWithoutActivity(t *testing.T) {
	w := newWorkspace(t, "exclude:\n  email_domains: [uptake-demo.internal]\n")
	os.Remove(filepath.Join(w.dir, "input", "activity_2026-09.csv"))
	w.write("establishments_2026-09.csv", "reference,name,archived,has_portal_access,portal views,downloads,shares,salesperson,seats\n"+
		"E1,Alpha,no,yes,0,0,0,Alice,4\nE2,Beta,no,yes,0,0,0,Alice,2\nE3,Gamma,no,yes,0,0,0,Alice,\n"+
		"E4,Delta,no,yes,0,0,0,Bob,3\nE5,Epsilon,yes,yes,0,0,0,Bob,5\nE6,Zeta,no,yes,0,0,0,Bob,2\n")
	if _, err := w.run(etl.Options{AllowShrink: true}); err != nil {
		t.Fatal(err)
	}
	got := w.cells(`SELECT activated_customers, active_customers, monthly_active_rate, usage_retention, churned_customers,
		activated_at_start, mau, dau_mau FROM kpi_overview_monthly WHERE month = '2026-09-01'`)
	if strings.Join(got, "") != "5 0 "+r(0, 5)+" "+r(0, 5)+" 1 6 0 -" {
		t.Errorf("September overview: %v", got)
	}
	want := []string{
		"2026-09-01 Alice 1 E1 churn_risk 1 | no longer active: score 0 after 10 the month before",
		"2026-09-01 Alice 2 E3 churn_risk 1 | no longer active: score 0 after 2 the month before",
		"2026-09-01 Alice 3 E1 lost_active_users 1 | no active user left of 4; 2 active the month before",
		"2026-09-01 Alice 4 E3 lost_active_users 1 | no active user left of 1; 1 active the month before",
		"2026-09-01 Alice 5 E3 low_engagement 2 | onboarded in August 2026; not active (score 0)",
		"2026-09-01 Alice 6 E1 low_utilization 2 | utilization 0 % (0 of 4 seats), below 60 %",
		"2026-09-01 Alice 7 E2 low_utilization 2 | utilization 0 % (0 of 2 seats), below 60 %",
		"2026-09-01 Bob 1 E4 churn_risk 1 | no longer active: score 0 after 25 the month before",
		"2026-09-01 Bob 2 E6 churn_risk 1 | no longer active: score 0 after 1 the month before",
		"2026-09-01 Bob 3 E4 lost_active_users 1 | no active user left of 2; 1 active the month before",
		"2026-09-01 Bob 4 E6 lost_active_users 1 | no active user left of 1; 1 active the month before",
		"2026-09-01 Bob 5 E6 low_engagement 2 | onboarded in August 2026; not active (score 0)",
		"2026-09-01 Bob 6 E4 low_utilization 2 | utilization 0 % (0 of 3 seats), below 60 %",
		"2026-09-01 Bob 7 E6 low_utilization 2 | utilization 0 % (0 of 2 seats), below 60 %",
	}
	if got := actionList(t, w.dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
