package etl_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/etl"
)

// actionList reads the published action list as "salesperson customer play
// priority | reason".
func actionList(t *testing.T, dir string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(dir, "out", "action_list.csv"))), "\n")
	if lines[0] != "month,customer_ref,name,salesperson,play,reason,suggested_task,priority,published_at" {
		t.Fatalf("header %q", lines[0])
	}
	var out []string
	for _, rec := range csvRecords(t, strings.Join(lines, "\n"))[1:] {
		out = append(out, rec[0]+" "+rec[3]+" "+rec[1]+" "+rec[4]+" "+rec[7]+" | "+rec[5])
	}
	return out
}

// The action list of September 2026 on the kpi fixture (see kpi_test.go and
// kpi_flows_test.go for every figure), rep by rep, priority first.
//
//	E2: 1 active user (u4) of 2 seats = 50 % < 60 %. E3: score 2 → 1, -50 % (the alert is at
//	50 %), still active; its seats are unknown, so no utilization play. E1: the top customer
//	(25), rank 1 of 5 active. E4: 1 of 3 seats = 33 %; score 25 → 6 = -76 %. E6: 1 of 2 = 50 %.
//	E5 is archived: no play.
func TestActionListSeptember(t *testing.T) {
	_, _, dir := runFixture(t, "kpi", date(2026, 10, 15))
	want := []string{
		"2026-09-01 Alice E2 low_utilization 2 | utilization 50 % (1 of 2 seats), below 60 %",
		"2026-09-01 Alice E3 usage_drop 2 | score 1, down 50 % from 2 the month before (alert at 50 %)",
		"2026-09-01 Alice E1 champion 3 | score 25, rank 1 of 5 active customers",
		"2026-09-01 Bob E4 low_utilization 2 | utilization 33 % (1 of 3 seats), below 60 %",
		"2026-09-01 Bob E6 low_utilization 2 | utilization 50 % (1 of 2 seats), below 60 %",
		"2026-09-01 Bob E4 usage_drop 2 | score 6, down 76 % from 25 the month before (alert at 50 %)",
	}
	if got := actionList(t, dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// August, when September's export is not in yet (5 October, within the
// grace days): every play appears.
//
//	E2: score 3 → 0, no longer active (churn risk, priority 1); onboarded in July and not active
//	in its first month after (low engagement); 0 of 2 seats. E1: 2 of 4 seats = 50 %.
//	E5: 1 active user in July, none of its 1 user in August (lost active users, priority 1);
//	onboarded in July, usage 0 of 1 = 0 % < 20 % (low engagement); 0 of 5 seats.
//	E4: 60 → 25 = -58.3 % → "down 58 %"; 1 of 3 seats = 33 %; the top customer (25), rank 1 of
//	5 active (E1 10, E3 2, E5 4, E6 1). E6: 1 of 2 seats = 50 %. E3 has no seats.
func TestActionListAugust(t *testing.T) {
	w := newWorkspace(t, "exclude:\n  email_domains: [uptake-demo.internal]\n") // as testdata/kpi/uptake.yaml
	for _, f := range []string{"establishments_2026-09.csv"} {
		os.Remove(filepath.Join(w.dir, "input", f))
	}
	opt := etl.Options{Config: w.cfg, AsOf: date(2026, 10, 5), Logger: discard()}
	if _, err := etl.Run(t.Context(), opt); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2026-08-01 Alice E2 churn_risk 1 | no longer active: score 0 after 3 the month before",
		"2026-08-01 Alice E2 low_engagement 2 | onboarded in July 2026; not active (score 0)",
		"2026-08-01 Alice E1 low_utilization 2 | utilization 50 % (2 of 4 seats), below 60 %",
		"2026-08-01 Alice E2 low_utilization 2 | utilization 0 % (0 of 2 seats), below 60 %",
		"2026-08-01 Bob E5 lost_active_users 1 | no active user left of 1; 1 active the month before",
		"2026-08-01 Bob E5 low_engagement 2 | onboarded in July 2026; usage 0 % (0 of 1 users), below 20 %",
		"2026-08-01 Bob E4 low_utilization 2 | utilization 33 % (1 of 3 seats), below 60 %",
		"2026-08-01 Bob E5 low_utilization 2 | utilization 0 % (0 of 5 seats), below 60 %",
		"2026-08-01 Bob E6 low_utilization 2 | utilization 50 % (1 of 2 seats), below 60 %",
		"2026-08-01 Bob E4 usage_drop 2 | score 25, down 58 % from 60 the month before (alert at 50 %)",
		"2026-08-01 Bob E4 champion 3 | score 25, rank 1 of 5 active customers",
	}
	if got := actionList(t, w.dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
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
