package etl_test

// The hand-computed weekly-active customers fixture: testdata/weekly (4
// customers, 2 salespeople, the exports of September and October 2026, 5
// users). Every expected value below is worked out by hand from the input
// files; the comments show the arithmetic.
//
// Customers (row of the month: salesperson, activated = not archived and
// portal access):
//
//	ref | Sep 2026                 | Oct 2026
//	C1  | Alice, activated         | Alice, activated
//	C2  | Alice, activated         | Alice, activated
//	C3  | Bob, activated           | Bob, archived (not activated)
//	C4  | Bob, no portal access    | Alice, activated (reassigned)
//
// Users: u1, u2 of C1; u3 of C2; u4 of C3; u5 of C4. Usage events
// (kpi.usage_events): portal_view, download, search, page_view; login is not
// one. ISO weeks from the first Monday of September (Sep 1 is a Tuesday), a
// week credited by the month of its Sunday:
//
//	week (Monday)        credit | days with usage events
//	(Aug 31 .. Sep 6)    -      | C2 Sep 1: before the first Monday, no week
//	W1 Sep 7  .. Sep 13  Sep    | C1 Sep 8 (u1), Sep 10 (u2); C2 Sep 9; C3 Sep 11; C4 Sep 9
//	W2 Sep 14 .. Sep 20  Sep    | none at all
//	W3 Sep 21 .. Sep 27  Sep    | C1 Sep 22; C2 Sep 23; C4 Sep 24
//	W4 Sep 28 .. Oct 4   Oct    | C3 Sep 28; C4 Sep 29; C1 Sep 30 (last day of Sep); C2 Oct 1 (first of Oct)
//	W5 Oct 5  .. Oct 11  Oct    | C1 Oct 6; C4 Oct 7; C3 Oct 9; (C2 Oct 8: 3 logins only)
//	W6 Oct 12 .. Oct 18  Oct    | C1 Oct 13; C4 Oct 14; C2 Oct 15
//	W7 Oct 19 .. Oct 25  Oct    | C2 Oct 20; C1 Oct 25 (Sunday)
//	W8 Oct 26 .. Nov 1   -      | C1 Oct 26: incomplete week (as of Oct 28), left out
//
// Active weeks per customer: C1 W1 W3 W4 W5 W6 W7; C2 W1 W3 W4 W6 W7;
// C3 W1 W4 W5; C4 W1 W3 W4 W5 W6.

import (
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors/ga4/ga4fake"
)

// weeklyRow is one row of weekly_active_customers; weekly and rate are NULL
// when not Valid.
type weeklyRow struct {
	activated, active int64
	weekly            sql.NullInt64
	rate              sql.NullFloat64
}

func wk(activated, active int64, weekly any, rate any) weeklyRow {
	r := weeklyRow{activated: activated, active: active}
	if n, ok := weekly.(int); ok {
		r.weekly = sql.NullInt64{Int64: int64(n), Valid: true}
	}
	if f, ok := rate.(float64); ok {
		r.rate = sql.NullFloat64{Float64: f, Valid: true}
	}
	return r
}

// weeklyWant is the whole table as of 2026-10-28 (Wednesday), key "week salesperson".
func weeklyWant() map[string]weeklyRow {
	return map[string]weeklyRow{
		// W1..W3: fewer than 4 weeks of history → weekly_active_customers and the rate NULL.
		// W1 (Sep): Alice C1, C2 activated (2), both active (C1 through u1 and u2: counted once) = 2.
		"2026-09-07 Alice": wk(2, 2, nil, nil),
		// Bob: C3 activated (1, C4 has no portal access), C3 active = 1; C4's Sep 9 does not count (not activated).
		"2026-09-07 Bob": wk(1, 1, nil, nil),
		// W2: no activity at all → 0 active for both.
		"2026-09-14 Alice": wk(2, 0, nil, nil),
		"2026-09-14 Bob":   wk(1, 0, nil, nil),
		// W3: Alice C1, C2 active = 2. Bob: C3 inactive, C4 not activated → no active customer.
		"2026-09-21 Alice": wk(2, 2, nil, nil),
		"2026-09-21 Bob":   wk(1, 0, nil, nil),
		// W4 spans Sep/Oct, credited by Sunday Oct 4 → October's rows: Alice has C1, C2 and C4
		// (reassigned, now activated) = 3, all active (C4 Sep 29 and C1 Sep 30 count although in
		// September) = 3. Weekly-active: W1..W4, but W2 had no activity → 0; rate 0/3.
		"2026-09-28 Alice": wk(3, 3, 0, 0.0),
		// Bob: only C3, archived in October → 0 activated; its Sep 28 activity does not count;
		// weekly 0, rate 0/0 → NULL.
		"2026-09-28 Bob": wk(0, 0, 0, nil),
		// W5: C1, C4 active = 2 (C2 logged in only). Weekly: W2..W5 includes W2 → 0; rate 0/3.
		"2026-10-05 Alice": wk(3, 2, 0, 0.0),
		// Bob: C3's Oct 9 activity, archived → nothing.
		"2026-10-05 Bob": wk(0, 0, 0, nil),
		// W6: C1, C4, C2 active = 3. Weekly W3..W6: C1 (W3 W4 W5 W6) yes; C2 (no W5) no;
		// C4 (W3 Sep 24, while not yet activated: only usage counts in earlier weeks; W4 W5 W6) yes
		// → 2; rate 2/3.
		"2026-10-12 Alice": wk(3, 3, 2, 2.0/3),
		"2026-10-12 Bob":   wk(0, 0, 0, nil),
		// W7 (Sunday Oct 25): C2, C1 active = 2. Weekly W4..W7: C1 (Sep 30, Oct 6, Oct 13, Oct 25) yes;
		// C2 (no W5) no; C4 (no W7) no → 1; rate 1/3.
		"2026-10-19 Alice": wk(3, 2, 1, 1.0/3),
		"2026-10-19 Bob":   wk(0, 0, 0, nil),
		// W8 (Oct 26 .. Nov 1) is incomplete: no row although C1 was active on Oct 26.
	}
}

// readWeekly returns weekly_active_customers by "week salesperson".
func readWeekly(t *testing.T, db *sql.DB) map[string]weeklyRow {
	t.Helper()
	rows, err := db.Query(`SELECT strftime(week, '%Y-%m-%d') || ' ' || salesperson, activated_customers, active_customers,
		weekly_active_customers, weekly_active_rate FROM weekly_active_customers ORDER BY week, salesperson`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]weeklyRow{}
	for rows.Next() {
		var key string
		var r weeklyRow
		if err := rows.Scan(&key, &r.activated, &r.active, &r.weekly, &r.rate); err != nil {
			t.Fatal(err)
		}
		if _, dup := got[key]; dup {
			t.Errorf("%s: two rows", key)
		}
		got[key] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func checkWeekly(t *testing.T, got, want map[string]weeklyRow) {
	t.Helper()
	for key, w := range want {
		g, ok := got[key]
		if !ok {
			t.Errorf("%s: missing", key)
			continue
		}
		checkInt(t, key, "activated_customers", g.activated, w.activated)
		checkInt(t, key, "active_customers", g.active, w.active)
		if g.weekly != w.weekly {
			t.Errorf("%s: weekly_active_customers = %v, want %v", key, g.weekly, w.weekly)
		}
		if g.rate.Valid != w.rate.Valid || math.Abs(g.rate.Float64-w.rate.Float64) > eps {
			t.Errorf("%s: weekly_active_rate = %v, want %v", key, g.rate, w.rate)
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("unexpected row %s", key)
		}
	}
}

func TestWeeklyActiveCustomers(t *testing.T) {
	db, res, dir := runFixture(t, "weekly", date(2026, 10, 28))
	checkWeekly(t, readWeekly(t, db), weeklyWant())
	checkInt(t, "rows_out", "weekly_active_customers", res.RowsOut["weekly_active_customers"], 14)

	// Overall = the sum over salespeople: W6 has 2 weekly-active of 3 activated customers.
	var weekly, activated int64
	if err := db.QueryRow(`SELECT sum(weekly_active_customers), sum(activated_customers) FROM weekly_active_customers
		WHERE week = DATE '2026-10-12'`).Scan(&weekly, &activated); err != nil {
		t.Fatal(err)
	}
	if weekly != 2 || activated != 3 {
		t.Errorf("W6 overall: %d of %d, want 2 of 3", weekly, activated)
	}
	var published int64
	if err := db.QueryRow(`SELECT count(*) FROM weekly_active_customers WHERE published_at IS NULL`).Scan(&published); err != nil || published != 0 {
		t.Errorf("published_at missing on %d rows (%v)", published, err)
	}

	// The report shows the weekly trend (overall count per week).
	html, err := os.ReadFile(filepath.Join(dir, "out", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `id="weekly-active"`) || !strings.Contains(string(html), "<title>Week of 12 Oct 2026: 2 weekly-active customers (66.7 % of 3 activated), 3 active that week</title>") {
		t.Errorf("report.html lacks the weekly-active chart")
	}
}

// TestWeeklyActiveAsOfEdge: a week is complete once its Sunday is before the
// as-of date. As of Monday Oct 26, W7's Sunday (Oct 25) is as-of − 1: W7 is
// there, with Oct 25's activity (C1 weekly-active). As of Sunday Oct 25, W7
// is incomplete and left out, although it has activity (C2 on Oct 20).
func TestWeeklyActiveAsOfEdge(t *testing.T) {
	db, _, _ := runFixture(t, "weekly", date(2026, 10, 26))
	checkWeekly(t, readWeekly(t, db), weeklyWant())

	db, _, _ = runFixture(t, "weekly", date(2026, 10, 25))
	want := weeklyWant()
	delete(want, "2026-10-19 Alice")
	delete(want, "2026-10-19 Bob")
	checkWeekly(t, readWeekly(t, db), want)
}

// TestWeeklyActiveCustomerLevelActivity adds a GA4 Data API source (customer
// level, raw_customer_activity) to the fixture: page views of C2 on Saturday
// Oct 10 (W5) and of archived C3 the same day.
func TestWeeklyActiveCustomerLevelActivity(t *testing.T) {
	fake := ga4fake.New(t)
	ev := func(date, customer string) ga4fake.Event {
		return ga4fake.Event{Date: date, Name: "page_view", Dims: map[string]string{"customUser:customer_ref": customer}, Users: []string{"g-" + customer}, Count: 2}
	}
	fake.AddEvents("42", ev("20261010", "C2"), ev("20261010", "C3"))
	db := runWeeklyWithSource(t, date(2026, 10, 28), `
  - name: shop
    kind: ga4
    property_id: "42"
    customer_dimension: customUser:customer_ref
    usage_events: [page_view]
    purchase_event: none
    start_date: 2026-09-01
    endpoint: `+fake.URL()+`
`)
	want := weeklyWant()
	// W5: C2 is now active too: C1, C4, C2 = 3 (C3 is archived: Bob unchanged).
	want["2026-10-05 Alice"] = wk(3, 3, 0, 0.0)
	// W6: C2 active in W3, W4, W5, W6 → weekly C1, C2, C4 = 3; rate 3/3.
	want["2026-10-12 Alice"] = wk(3, 3, 3, 1.0)
	// W7: C2 active in W4 (Oct 1), W5 (GA4), W6, W7 → weekly C1, C2 = 2; rate 2/3.
	want["2026-10-19 Alice"] = wk(3, 2, 2, 2.0/3)
	checkWeekly(t, readWeekly(t, db), want)
}

// runWeeklyWithSource runs testdata/weekly with one more source (YAML list
// items, indented like the fixture's sources).
func runWeeklyWithSource(t *testing.T, asOf time.Time, sourceYAML string) *sql.DB {
	t.Helper()
	db, _, _ := runFixtureWith(t, "weekly", asOf, sourceYAML)
	return db
}
