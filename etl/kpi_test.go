package etl_test

// The hand-computed KPI fixture: testdata/kpi (6 establishments, 2
// salespeople, 3 months, 12 users). Every expected value below is worked out
// by hand from the input files; the comments show the arithmetic.
//
// Establishments (score = portal views + downloads + shares):
//
//	ref salesperson seats | Jul 2026            | Aug 2026          | Sep 2026
//	E1  Alice       4     | 10+5+0  = 15        | 8+2+0  = 10       | 20+0+5 = 25
//	E2  Alice       2     | 3                   | 0                 | 1
//	E3  Alice       -     | 0, no portal access | 2 (access now)    | 0+1 = 1
//	E4  Bob         3     | 40+10+10 = 60       | 20+5 = 25         | 6
//	E5  Bob         5     | 5                   | 4                 | 0, archived
//	E6  Bob         2     | (not yet a customer)| 1                 | 3+1 = 4
//
// Users (created, deactivated): u1,u2 E1 (Jun); u3 E1 (Aug 10); u12 E1 (Sep 20);
// u4 E2; u5 E3 (Aug 1); u6,u8 E4; u7 E4 deactivated Aug 20; u9 E5 archived
// without a date (deactivated from the snapshot, Oct 1); u10 E6 (Aug 5);
// u11 E6 is internal (uptake-demo.internal) and excluded.

import (
	"database/sql"
	"math"
	"os"
	"testing"

	_ "github.com/uptake-dev/uptake/connectors/all"
)

const eps = 1e-9

func TestKPIOverviewMonthly(t *testing.T) {
	db, _, _ := runFixture(t, "kpi", date(2026, 10, 15))
	type row struct {
		customers, activated, active         int64
		rate                                 float64
		score                                int64
		prevScore                            sql.NullInt64
		mom                                  sql.NullFloat64
		champions, churn, users, activeUsers int64
		usage                                float64
		withSeats, seats, seatActive         int64
		util, avgUtil                        float64
		low, increasing                      int64
		avgDAU                               float64
		mau                                  int64
		dauMAU                               float64
	}
	want := map[string]row{
		// Jul: customers E1..E5 (5); activated E1,E2,E4,E5 (E3 no access) = 4; all 4 score >= 1 → rate 4/4.
		// score 15+3+0+60+5 = 83, no previous month. Champion: top 10 % of 4 active → ceil(0.4) = 1: E4.
		// users of activated customers: E1 u1,u2 (2) + E2 u4 (1) + E4 u6,u7,u8 (3) + E5 u9 (1) = 7;
		// active: u1,u2 (E1), u6,u7 (E4), u9 (E5) = 5 → 5/7.
		// seats: E1 2/4, E2 0/2, E4 2/3, E5 1/5 → pooled 5/14, mean (0.5+0+2/3+0.2)/4; below 60 %: E1,E2,E5 = 3.
		// DAU: Jul 2 {u1}, Jul 3 {u1,u2}, Jul 10 {u6,u7}, Jul 20 {u9} → 6 / 31 days; MAU 5.
		"2026-07-01": {5, 4, 4, 1, 83, sql.NullInt64{}, sql.NullFloat64{}, 1, 0, 7, 5, 5.0 / 7,
			4, 14, 5, 5.0 / 14, (0.5 + 0 + 2.0/3 + 0.2) / 4, 3, 0, 6.0 / 31, 5, 6.0 / 31 / 5},
		// Aug: 6 customers, all activated; active all but E2 (score 0) = 5 → 5/6.
		// score 10+0+2+25+4+1 = 42; prev over Aug's customers 15+3+0+60+5 = 83 → (42-83)/83.
		// Champion: ceil(0.5) = 1: E4 (25). Churn risks: E2 (active → inactive), E4 (60 → 25, -58 %) = 2.
		// users: E1 u1,u2,u3 (3) + E2 (1) + E3 u5 (1) + E4 u6,u8 (u7 left Aug 20) (2) + E5 (1) + E6 u10 (1) = 9;
		// active in the user base: u1,u3 (E1), u5 (E3), u6 (E4), u10 (E6) = 5 → 5/9 (u7's login after leaving does not count).
		// seats: E1 2/4, E2 0/2, E4 1/3, E5 0/5, E6 1/2 → pooled 4/16, mean (0.5+0+1/3+0+0.5)/5; all 5 below 60 %.
		// DAU: Aug 3 {u1}, Aug 12 {u3,u5}, Aug 21 {u7,u6}, Aug 30 {u10} → 6/31 (u11 is excluded); MAU 6.
		"2026-08-01": {6, 6, 5, 5.0 / 6, 42, sql.NullInt64{Int64: 83, Valid: true}, sql.NullFloat64{Float64: (42.0 - 83) / 83, Valid: true}, 1, 2, 9, 5, 5.0 / 9,
			5, 16, 4, 4.0 / 16, (0.5 + 0 + 1.0/3 + 0 + 0.5) / 5, 5, 0, 6.0 / 31, 6, 6.0 / 31 / 6},
		// Sep: E5 archived → 5 customers, 5 activated, all 5 score >= 1 → 5/5.
		// score 25+1+1+6+0+4 = 37; prev 10+0+2+25+4+1 = 42 → (37-42)/42.
		// Champion: E1 (25). Churn risks: E3 (2 → 1, exactly -50 %), E4 (25 → 6) = 2; E5 is archived, not a risk.
		// users (E5 no longer activated): E1 u1,u2,u3,u12 (4) + E2 (1) + E3 (1) + E4 (2) + E6 (1) = 9;
		// active: u1,u2,u12 (E1), u4 (E2), u5 (E3), u8 (E4), u10 (E6) = 7 → 7/9.
		// seats: E1 3/4, E2 1/2, E4 1/3, E6 1/2 → pooled 6/11, mean (0.75+0.5+1/3+0.5)/4;
		// below 60 %: E2, E4, E6 = 3; up >= 10 points: E1 (50 → 75 %), E2 (0 → 50 %) = 2.
		// DAU: Sep 1 {u1,u2,u4}, Sep 15 {u1,u5,u8}, Sep 22 {u12}, Sep 28 {u10,u9} → 9/30; MAU 8 (u9 of archived E5 counts: its customer is known).
		"2026-09-01": {5, 5, 5, 1, 37, sql.NullInt64{Int64: 42, Valid: true}, sql.NullFloat64{Float64: (37.0 - 42) / 42, Valid: true}, 1, 2, 9, 7, 7.0 / 9,
			4, 11, 6, 6.0 / 11, (0.75 + 0.5 + 1.0/3 + 0.5) / 4, 3, 2, 9.0 / 30, 8, 9.0 / 30 / 8},
	}
	rows, err := db.Query(`SELECT strftime(month, '%Y-%m-%d'), complete, customers, activated_customers, active_customers, monthly_active_rate,
		score, prev_score, score_mom, champions, churn_risks, users, active_users, usage_pct,
		customers_with_seats, seats, seat_active_users, license_utilization, avg_license_utilization,
		low_utilization_customers, utilization_increasing_customers, avg_dau, mau, dau_mau
		FROM kpi_overview_monthly ORDER BY month`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var month string
		var complete bool
		var g row
		if err := rows.Scan(&month, &complete, &g.customers, &g.activated, &g.active, &g.rate, &g.score, &g.prevScore, &g.mom,
			&g.champions, &g.churn, &g.users, &g.activeUsers, &g.usage, &g.withSeats, &g.seats, &g.seatActive, &g.util, &g.avgUtil,
			&g.low, &g.increasing, &g.avgDAU, &g.mau, &g.dauMAU); err != nil {
			t.Fatal(err)
		}
		w, ok := want[month]
		if !ok {
			t.Errorf("unexpected month %s", month)
			continue
		}
		seen++
		if !complete {
			t.Errorf("%s: complete = false, want true (as of 2026-10-15)", month)
		}
		checkInt(t, month, "customers", g.customers, w.customers)
		checkInt(t, month, "activated_customers", g.activated, w.activated)
		checkInt(t, month, "active_customers", g.active, w.active)
		checkFloat(t, month, "monthly_active_rate", g.rate, w.rate)
		checkInt(t, month, "score", g.score, w.score)
		if g.prevScore != w.prevScore {
			t.Errorf("%s: prev_score = %v, want %v", month, g.prevScore, w.prevScore)
		}
		if g.mom.Valid != w.mom.Valid || math.Abs(g.mom.Float64-w.mom.Float64) > eps {
			t.Errorf("%s: score_mom = %v, want %v", month, g.mom, w.mom)
		}
		checkInt(t, month, "champions", g.champions, w.champions)
		checkInt(t, month, "churn_risks", g.churn, w.churn)
		checkInt(t, month, "users", g.users, w.users)
		checkInt(t, month, "active_users", g.activeUsers, w.activeUsers)
		checkFloat(t, month, "usage_pct", g.usage, w.usage)
		checkInt(t, month, "customers_with_seats", g.withSeats, w.withSeats)
		checkInt(t, month, "seats", g.seats, w.seats)
		checkInt(t, month, "seat_active_users", g.seatActive, w.seatActive)
		checkFloat(t, month, "license_utilization", g.util, w.util)
		checkFloat(t, month, "avg_license_utilization", g.avgUtil, w.avgUtil)
		checkInt(t, month, "low_utilization_customers", g.low, w.low)
		checkInt(t, month, "utilization_increasing_customers", g.increasing, w.increasing)
		checkFloat(t, month, "avg_dau", g.avgDAU, w.avgDAU)
		checkInt(t, month, "mau", g.mau, w.mau)
		checkFloat(t, month, "dau_mau", g.dauMAU, w.dauMAU)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(want) {
		t.Errorf("kpi_overview_monthly has %d of the %d expected months", seen, len(want))
	}
}

func TestKPISalespersonMonthly(t *testing.T) {
	db, _, _ := runFixture(t, "kpi", date(2026, 10, 15))
	type row struct {
		customers, activated, active int64
		rate                         float64
		score                        int64
		mom                          sql.NullFloat64
		champions, churn             int64
		users, activeUsers           int64
	}
	null := sql.NullFloat64{}
	f := func(v float64) sql.NullFloat64 { return sql.NullFloat64{Float64: v, Valid: true} }
	want := map[string]row{
		// Alice: E1, E2, E3. Jul: E3 not activated → 2 activated, both active; score 15+3+0 = 18.
		// users E1 2 + E2 1 = 3, active u1,u2 = 2.
		"2026-07-01 Alice": {3, 2, 2, 1, 18, null, 0, 0, 3, 2},
		// Bob: E4, E5. Jul: score 60+5 = 65; champion E4. users E4 3 + E5 1 = 4, active u6,u7,u9 = 3.
		"2026-07-01 Bob": {2, 2, 2, 1, 65, null, 1, 0, 4, 3},
		// Alice Aug: 3 activated, active E1,E3 → 2/3; score 10+0+2 = 12 vs 18 → -6/18; churn E2.
		// users 3+1+1 = 5, active u1,u3,u5 = 3.
		"2026-08-01 Alice": {3, 3, 2, 2.0 / 3, 12, f(-6.0 / 18), 0, 1, 5, 3},
		// Bob Aug: E4,E5,E6 active; score 25+4+1 = 30 vs 65 → -35/65; champion and churn risk E4.
		// users 2+1+1 = 4, active u6,u10 = 2.
		"2026-08-01 Bob": {3, 3, 3, 1, 30, f(-35.0 / 65), 1, 1, 4, 2},
		// Alice Sep: all 3 active; score 25+1+1 = 27 vs 12 → 15/12; champion E1; churn E3.
		// users 4+1+1 = 6, active u1,u2,u12,u4,u5 = 5.
		"2026-09-01 Alice": {3, 3, 3, 1, 27, f(15.0 / 12), 1, 1, 6, 5},
		// Bob Sep: E5 archived → E4, E6; score 6+0+4 = 10 vs 25+4+1 = 30 → -20/30; churn E4.
		// users E4 2 + E6 1 = 3, active u8,u10 = 2.
		"2026-09-01 Bob": {2, 2, 2, 1, 10, f(-20.0 / 30), 0, 1, 3, 2},
	}
	rows, err := db.Query(`SELECT strftime(month, '%Y-%m-%d') || ' ' || salesperson, customers, activated_customers, active_customers,
		monthly_active_rate, score, score_mom, champions, churn_risks, users, active_users
		FROM kpi_salesperson_monthly ORDER BY month, salesperson`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var key string
		var g row
		if err := rows.Scan(&key, &g.customers, &g.activated, &g.active, &g.rate, &g.score, &g.mom, &g.champions, &g.churn, &g.users, &g.activeUsers); err != nil {
			t.Fatal(err)
		}
		w, ok := want[key]
		if !ok {
			t.Errorf("unexpected row %s", key)
			continue
		}
		seen++
		checkInt(t, key, "customers", g.customers, w.customers)
		checkInt(t, key, "activated_customers", g.activated, w.activated)
		checkInt(t, key, "active_customers", g.active, w.active)
		checkFloat(t, key, "monthly_active_rate", g.rate, w.rate)
		checkInt(t, key, "score", g.score, w.score)
		if g.mom.Valid != w.mom.Valid || math.Abs(g.mom.Float64-w.mom.Float64) > eps {
			t.Errorf("%s: score_mom = %v, want %v", key, g.mom, w.mom)
		}
		checkInt(t, key, "champions", g.champions, w.champions)
		checkInt(t, key, "churn_risks", g.churn, w.churn)
		checkInt(t, key, "users", g.users, w.users)
		checkInt(t, key, "active_users", g.activeUsers, w.activeUsers)
	}
	if seen != len(want) {
		t.Errorf("kpi_salesperson_monthly has %d of the %d expected rows", seen, len(want))
	}
}

func TestKPICustomerMonthly(t *testing.T) {
	db, _, _ := runFixture(t, "kpi", date(2026, 10, 15))
	var n int64
	if err := db.QueryRow(`SELECT count(*) FROM customer_monthly`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	// 5 customers in Jul, 6 in Aug, 6 in Sep (archived E5 stays listed).
	checkInt(t, "customer_monthly", "rows", n, 17)
	cases := []struct {
		month, ref                                  string
		created, onboarded                          string
		activated, active, champion, churn, low, up bool
		score                                       int64
		mom                                         sql.NullFloat64
		users, activeUsers                          int64
		util                                        sql.NullFloat64
	}{
		// E3 gets portal access in Aug: created Jul, onboarded Aug; no seats → no utilization.
		{"2026-07-01", "E3", "2026-07-01", "2026-08-01", false, false, false, false, false, false, 0, sql.NullFloat64{}, 0, 0, sql.NullFloat64{}},
		// E1 Aug: 15 → 10 = -1/3, not a 50 % drop; 2 of 3 users active, 2/4 seats.
		{"2026-08-01", "E1", "2026-07-01", "2026-07-01", true, true, false, false, true, false, 10, sql.NullFloat64{Float64: -5.0 / 15, Valid: true}, 3, 2, sql.NullFloat64{Float64: 0.5, Valid: true}},
		// E4 Aug: top scorer (champion) and down 58 % (churn risk) at once.
		{"2026-08-01", "E4", "2026-07-01", "2026-07-01", true, true, true, true, true, false, 25, sql.NullFloat64{Float64: -35.0 / 60, Valid: true}, 2, 1, sql.NullFloat64{Float64: 1.0 / 3, Valid: true}},
		// E2 Sep: 0 → 1: MoM undefined (division by zero) → NULL; utilization 0 → 50 % is increasing.
		{"2026-09-01", "E2", "2026-07-01", "2026-07-01", true, true, false, false, true, true, 1, sql.NullFloat64{}, 1, 1, sql.NullFloat64{Float64: 0.5, Valid: true}},
		// E5 Sep: archived → not activated, not a churn risk, no utilization.
		{"2026-09-01", "E5", "2026-07-01", "2026-07-01", false, false, false, false, false, false, 0, sql.NullFloat64{Float64: -1, Valid: true}, 1, 1, sql.NullFloat64{}},
		// E6 created Aug.
		{"2026-09-01", "E6", "2026-08-01", "2026-08-01", true, true, false, false, true, false, 4, sql.NullFloat64{Float64: 3, Valid: true}, 1, 1, sql.NullFloat64{Float64: 0.5, Valid: true}},
	}
	for _, c := range cases {
		key := c.month + " " + c.ref
		var created, onboarded string
		var activated, active, champion, churn, low, up bool
		var score, users, activeUsers int64
		var mom, util sql.NullFloat64
		err := db.QueryRow(`SELECT strftime(created_month, '%Y-%m-%d'), strftime(onboarded_month, '%Y-%m-%d'), activated, active, champion, churn_risk,
			low_utilization, utilization_increasing, score, score_mom, users, active_users, license_utilization
			FROM customer_monthly WHERE month = ?::DATE AND customer_ref = ?`, c.month, c.ref).Scan(
			&created, &onboarded, &activated, &active, &champion, &churn, &low, &up, &score, &mom, &users, &activeUsers, &util)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if created != c.created || onboarded != c.onboarded {
			t.Errorf("%s: created/onboarded = %s/%s, want %s/%s", key, created, onboarded, c.created, c.onboarded)
		}
		if activated != c.activated || active != c.active || champion != c.champion || churn != c.churn || low != c.low || up != c.up {
			t.Errorf("%s: activated,active,champion,churn_risk,low,increasing = %v,%v,%v,%v,%v,%v want %v,%v,%v,%v,%v,%v",
				key, activated, active, champion, churn, low, up, c.activated, c.active, c.champion, c.churn, c.low, c.up)
		}
		checkInt(t, key, "score", score, c.score)
		if mom.Valid != c.mom.Valid || math.Abs(mom.Float64-c.mom.Float64) > eps {
			t.Errorf("%s: score_mom = %v, want %v", key, mom, c.mom)
		}
		checkInt(t, key, "users", users, c.users)
		checkInt(t, key, "active_users", activeUsers, c.activeUsers)
		if util.Valid != c.util.Valid || math.Abs(util.Float64-c.util.Float64) > eps {
			t.Errorf("%s: license_utilization = %v, want %v", key, util, c.util)
		}
	}
}

func TestKPIDaily(t *testing.T) {
	db, _, _ := runFixture(t, "kpi", date(2026, 10, 15))
	var n int64
	if err := db.QueryRow(`SELECT count(*) FROM kpi_daily`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	// Jul 2 .. Sep 28: 30 + 31 + 28 days.
	checkInt(t, "kpi_daily", "rows", n, 89)
	cases := []struct {
		day           string
		dau, wau, mau int64
	}{
		{"2026-07-02", 1, 1, 1},
		{"2026-07-03", 2, 2, 2},
		// Jul 9: window Jul 3..9 still holds u1, u2.
		{"2026-07-09", 0, 2, 2},
		// Jul 10: u1, u2 leave the 7-day window; u6, u7 arrive. 30 days: u1,u2,u6,u7.
		{"2026-07-10", 2, 2, 4},
		// Aug 2: 30-day window Jul 4 .. Aug 2 = u6, u7, u9.
		{"2026-08-02", 0, 0, 3},
		// Aug 3: u1 is back (its Jul 3 activity is 31 days old): u6, u7, u9, u1.
		{"2026-08-03", 1, 1, 4},
		// Sep 28: 7 days Sep 22..28 = u12, u10, u9; 30 days Aug 30..Sep 28 = u10, u1, u2, u4, u5, u8, u12, u9.
		{"2026-09-28", 2, 3, 8},
	}
	for _, c := range cases {
		var dau, wau, mau int64
		var ratio sql.NullFloat64
		if err := db.QueryRow(`SELECT dau, wau, mau, dau_mau FROM kpi_daily WHERE day = ?::DATE`, c.day).Scan(&dau, &wau, &mau, &ratio); err != nil {
			t.Fatalf("%s: %v", c.day, err)
		}
		if dau != c.dau || wau != c.wau || mau != c.mau {
			t.Errorf("%s: dau/wau/mau = %d/%d/%d, want %d/%d/%d", c.day, dau, wau, mau, c.dau, c.wau, c.mau)
		}
		if c.mau > 0 && math.Abs(ratio.Float64-float64(c.dau)/float64(c.mau)) > eps {
			t.Errorf("%s: dau_mau = %v, want %d/%d", c.day, ratio, c.dau, c.mau)
		}
	}
}

func checkInt(t *testing.T, key, col string, got, want int64) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %s = %d, want %d", key, col, got, want)
	}
}

func checkFloat(t *testing.T, key, col string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > eps {
		t.Errorf("%s: %s = %.10f, want %.10f", key, col, got, want)
	}
}

func init() {
	// Tests run from etl/; fixtures name paths from the repo root.
	_ = os.Setenv("TZ", "UTC")
}
