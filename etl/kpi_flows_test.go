package etl_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/etl"
)

// cells formats one row of any column types: NULL as "-", floats to 6
// places, so that expected rows can be written as text.
func cells(t *testing.T, rows *sql.Rows) []string {
	t.Helper()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			switch x := v.(type) {
			case nil:
				parts = append(parts, "-")
			case float64:
				parts = append(parts, fmt.Sprintf("%.6f", x))
			default:
				parts = append(parts, fmt.Sprint(x))
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// r is a ratio as cells prints it; x a float.
func r(num, den float64) string { return x(num / den) }
func x(v float64) string        { return fmt.Sprintf("%.6f", v) }

// The flows of the testdata/kpi fixture (see kpi_test.go for the inputs).
// July is the first month: nothing to compare with, every flow is NULL.
//
// August (start = July's rows):
//
//	to activate: E3 (no access in July, Alice), E6 (created in August, Bob); both
//	activated in August → 1/1 each, 2/2 overall.
//	activated at start: Alice E1,E2; Bob E4,E5 → 2, 2, 4. None lost access (0), none archived (0).
//	active at start: Alice E1,E2 → retained E1 (E2 scored 0) = 1/2; Bob E4,E5 both retained 2/2; 3/4.
//	new users: u3 (E1), u5 (E3) → Alice 2, both logged in in August; u10 (E6) → Bob 1 (u11 is excluded).
//	users at start (July, activated customers): Alice E1 2 + E2 1 = 3; Bob E4 3 + E5 1 = 4;
//	deactivated in August: u7 (E4, Aug 20) → Bob 1/4, overall 1/7.
//	pooled utilization: Alice 2/6 → 2/6 (change 0); Bob 3/8 → 2/10; overall 5/14 → 4/16.
//	low engagement: nobody. E2 (score 0) and E5 (0 of 1 users active) were activated in July,
//	but July is the first month of data: onboarded at or before it, not judged.
//	Lost every active user: E5 (1 active in July, 0 in August, Bob).
//
// September (start = August's rows):
//
//	to activate: none (all activated in August, none created) → 0, rate NULL.
//	activated at start: Alice 3 (E1,E2,E3), Bob 3 (E4,E5,E6); churned: E5 archived → Bob 1/3, overall 1/6.
//	active at start: Alice E1,E3 → both retained 2/2; Bob E4,E5,E6 → E4,E6 retained 2/3; 4/5.
//	new users: u12 (E1, logged in Sep 22) → Alice 1/1; Bob 0 → NULL.
//	users at start (August): Alice 3+1+1 = 5; Bob E4 u6,u8 2 + E5 1 + E6 1 = 4; none deactivated in
//	September (u9's date is the Oct 1 snapshot) → 0/5, 0/4, 0/9.
//	pooled utilization: Alice 2/6 → 4/6; Bob 2/10 → 2/5 (E5 no longer activated); overall 4/16 → 6/11.
//	low engagement (onboarded in August: E3, E6): both active with 1 of 1 users → 0. Lost users: 0.
func TestKPIFlows(t *testing.T) {
	db, _, _ := runFixture(t, "kpi", date(2026, 10, 15))
	const cols = `customers_to_activate, newly_activated_customers, customer_activation_rate,
		activated_at_start, deactivated_customers, customer_deactivation_rate, churned_customers, churn_rate,
		prev_active_customers, retained_active_customers, usage_retention,
		new_users, new_users_logged_in, user_activation_rate, users_at_start, deactivated_users, user_deactivation_rate,
		prev_license_utilization, license_utilization_change, low_engagement_customers, lost_active_users_customers`
	row := func(cells ...any) string { return strings.TrimSpace(fmt.Sprintln(cells...)) }
	const nulls = "- - - - - - - - - - - - - - - - - - - 0 0"
	//                       to act new rate | at start deact rate churn rate | prev ret rate | new in rate | start deact rate | prev util, change | low lost
	wantSalesperson := []string{
		"2026-07 Alice " + nulls,
		"2026-07 Bob " + nulls,
		row("2026-08 Alice", 1, 1, r(1, 1), 2, 0, r(0, 2), 0, r(0, 2), 2, 1, r(1, 2), 2, 2, r(2, 2), 3, 0, r(0, 3), r(2, 6), x(0), 0, 0),
		row("2026-08 Bob", 1, 1, r(1, 1), 2, 0, r(0, 2), 0, r(0, 2), 2, 2, r(2, 2), 1, 1, r(1, 1), 4, 1, r(1, 4), r(3, 8), x(2.0/10-3.0/8), 0, 1),
		row("2026-09 Alice", 0, 0, "-", 3, 0, r(0, 3), 0, r(0, 3), 2, 2, r(2, 2), 1, 1, r(1, 1), 5, 0, r(0, 5), r(2, 6), x(4.0/6-2.0/6), 0, 0),
		row("2026-09 Bob", 0, 0, "-", 3, 0, r(0, 3), 1, r(1, 3), 3, 2, r(2, 3), 0, 0, "-", 4, 0, r(0, 4), r(2, 10), x(2.0/5-2.0/10), 0, 0),
	}
	wantOverall := []string{
		"2026-07 " + nulls,
		row("2026-08", 2, 2, r(2, 2), 4, 0, r(0, 4), 0, r(0, 4), 4, 3, r(3, 4), 3, 3, r(3, 3), 7, 1, r(1, 7), r(5, 14), x(4.0/16-5.0/14), 0, 1),
		row("2026-09", 0, 0, "-", 6, 0, r(0, 6), 1, r(1, 6), 5, 4, r(4, 5), 1, 1, r(1, 1), 9, 0, r(0, 9), r(4, 16), x(6.0/11-4.0/16), 0, 0),
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{`SELECT strftime(month, '%Y-%m'), salesperson, ` + cols + ` FROM kpi_salesperson_monthly ORDER BY month, salesperson`, wantSalesperson},
		{`SELECT strftime(month, '%Y-%m'), ` + cols + ` FROM kpi_overview_monthly ORDER BY month`, wantOverall},
	} {
		rows, err := db.Query(c.query)
		if err != nil {
			t.Fatal(err)
		}
		got := cells(t, rows)
		rows.Close()
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}

	// customer_monthly's flags behind the counts.
	rows, err := db.Query(`SELECT strftime(month, '%Y-%m'), customer_ref FROM customer_monthly WHERE low_engagement ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	low := cells(t, rows)
	rows.Close()
	rows, err = db.Query(`SELECT strftime(month, '%Y-%m'), customer_ref FROM customer_monthly WHERE lost_active_users ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	lost := cells(t, rows)
	rows.Close()
	if len(low) != 0 || strings.Join(lost, ", ") != "2026-08 E5" {
		t.Errorf("low engagement %v, lost active users %v", low, lost)
	}
}

// E5 deleted from September's export instead of archived: it still churns
// (and is not retained). Bob: activated at the start E4,E5,E6 = 3, churned
// 1 (gone) → 1/3; active at the start E4,E5,E6, retained E4,E6 → 2/3; the
// overall figures keep their denominators (6 activated, 5 active).
func TestFlowsOfACustomerGoneFromTheExport(t *testing.T) {
	w := newWorkspace(t, "exclude:\n  email_domains: [uptake-demo.internal]\n")
	sep := readFile(t, filepath.Join(w.dir, "input", "establishments_2026-09.csv"))
	w.write("establishments_2026-09.csv", strings.Replace(sep, "E5,Epsilon,yes,yes,0,0,0,Bob,5\n", "", 1))
	if _, err := w.run(etl.Options{AllowShrink: true}); err != nil {
		t.Fatal(err)
	}
	got := w.cells(`SELECT coalesce(salesperson, 'all'), activated_at_start, churned_customers, gone_customers, churn_rate,
		prev_active_customers, retained_active_customers, usage_retention
		FROM (SELECT * FROM kpi_salesperson_monthly UNION ALL BY NAME SELECT * FROM kpi_overview_monthly)
		WHERE month = '2026-09-01' ORDER BY salesperson NULLS LAST`)
	want := []string{"Alice 3 0 0 " + r(0, 3) + " 2 2 " + r(2, 2), "Bob 3 1 1 " + r(1, 3) + " 3 2 " + r(2, 3), "all 6 1 1 " + r(1, 6) + " 5 4 " + r(4, 5)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// As of 16 September, September is the month to date: no rates of change,
// no utilization change, nobody "increasing" (15 days are not a month).
func TestFlowsSkipTheMonthToDate(t *testing.T) {
	db, _, _ := runFixture(t, "kpi", date(2026, 9, 16))
	rows, err := db.Query(`SELECT strftime(month, '%Y-%m'), complete, churn_rate, usage_retention, customer_activation_rate,
		prev_license_utilization, license_utilization_change, utilization_increasing_customers
		FROM kpi_overview_monthly WHERE month = '2026-09-01'`)
	if err != nil {
		t.Fatal(err)
	}
	got := cells(t, rows)
	rows.Close()
	if strings.Join(got, "") != "2026-09 false - - - - - 0" {
		t.Errorf("month to date: %v", got)
	}
}
