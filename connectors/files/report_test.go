package files

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"html/template"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/uptake-dev/uptake/config"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

const kpiDDL = `complete BOOLEAN, customers BIGINT, activated_customers BIGINT, active_customers BIGINT,
	monthly_active_rate DOUBLE, score BIGINT, prev_score BIGINT, score_mom DOUBLE, champions BIGINT,
	churn_risks BIGINT, users BIGINT, active_users BIGINT, usage_pct DOUBLE, customers_with_seats BIGINT,
	seats BIGINT, seat_active_users BIGINT, license_utilization DOUBLE, avg_license_utilization DOUBLE,
	low_utilization_customers BIGINT, utilization_increasing_customers BIGINT, avg_dau DOUBLE, mau BIGINT,
	dau_mau DOUBLE, published_at TIMESTAMP, churned_customers BIGINT, activated_at_start BIGINT, churn_rate DOUBLE`

var schema = []string{
	`CREATE TABLE kpi_overview_monthly (month DATE, ` + kpiDDL + `)`,
	`CREATE TABLE kpi_salesperson_monthly (month DATE, salesperson VARCHAR, ` + kpiDDL + `)`,
	`CREATE TABLE customer_monthly (month DATE, customer_ref VARCHAR, name VARCHAR, salesperson VARCHAR,
		complete BOOLEAN, created_month DATE, onboarded_month DATE, archived BOOLEAN, has_portal_access BOOLEAN,
		activated BOOLEAN, score BIGINT, prev_score BIGINT, score_mom DOUBLE, active BOOLEAN, prev_active BOOLEAN,
		champion BOOLEAN, churn_risk BOOLEAN, users BIGINT, active_users BIGINT, usage_pct DOUBLE, seats BIGINT,
		license_utilization DOUBLE, prev_license_utilization DOUBLE, low_utilization BOOLEAN,
		utilization_increasing BOOLEAN, published_at TIMESTAMP)`,
	`CREATE TABLE kpi_daily (day DATE, month DATE, dau BIGINT, wau BIGINT, mau BIGINT, dau_mau DOUBLE, published_at TIMESTAMP)`,
	`CREATE TABLE weekly_active_customers (week DATE, salesperson VARCHAR, activated_customers BIGINT, active_customers BIGINT,
		weekly_active_customers BIGINT, weekly_active_rate DOUBLE, published_at TIMESTAMP)`,
	`CREATE TABLE feature_adoption (month DATE, complete BOOLEAN, salesperson VARCHAR, feature VARCHAR,
		activated_customers BIGINT, adopters BIGINT, adoption_rate DOUBLE, published_at TIMESTAMP)`,
	`CREATE TABLE feature_segments (month DATE, complete BOOLEAN, salesperson VARCHAR, segment VARCHAR, features INTEGER,
		customers BIGINT, published_at TIMESTAMP)`,
	`CREATE TABLE action_list (month DATE, customer_ref VARCHAR, name VARCHAR, salesperson VARCHAR, play VARCHAR,
		reason VARCHAR, suggested_task VARCHAR, priority INTEGER, position INTEGER, published_at TIMESTAMP)`,
}

const evil = `<script>alert(1)</script> & Co`

var handMade = []string{
	`INSERT INTO kpi_overview_monthly (month, complete, customers, activated_customers, active_customers,
		monthly_active_rate, score, prev_score, score_mom, champions, churn_risks, users, active_users, usage_pct,
		seats, seat_active_users, license_utilization, low_utilization_customers, avg_dau, mau, dau_mau) VALUES
	('2026-07-01', true, 5, 4, 2, 0.5, 100, 80, 0.25, 1, 1, 40, 10, 0.25, 30, 12, 0.4, 2, 3.5, 10, NULL),
	('2026-08-01', true, 5, 4, 3, 0.75, 90, 100, -0.1, 2, 2, 12345, 4321, 0.35002, 2000, 1300, 0.65, 1, 1781.6, 4321, 0.4123),
	('2026-09-01', false, 5, 4, 1, 0.25, 40, 90, -0.5556, 0, 1, 12345, 100, 0.0081, 2000, 90, 0.045, 3, 12, 100, 0.12)`,
	`UPDATE kpi_overview_monthly SET churned_customers = 1, activated_at_start = 8, churn_rate = 0.125 WHERE month = '2026-08-01'`,
	`INSERT INTO kpi_salesperson_monthly (month, salesperson, complete, customers, activated_customers,
		active_customers, monthly_active_rate, users, active_users, usage_pct, score_mom) VALUES
	('2026-08-01', 'Alice', true, 2, 2, 1, 0.5, 100, 20, 0.2, 0.1),
	('2026-08-01', 'Bob & Co', true, 3, 2, 2, 1.0, 100, 60, 0.6, -0.2),
	('2026-09-01', 'Carol', false, 3, 2, 2, 1.0, 100, 99, 0.99, NULL)`,
	`INSERT INTO customer_monthly (month, customer_ref, name, salesperson, complete, champion, churn_risk,
		score, prev_score, score_mom, usage_pct) VALUES
	('2026-08-01', 'C1', '` + evil + `', 'Alice', true, true, false, 50, 40, 0.25, 0.3),
	('2026-08-01', 'C2', 'Acme', 'Bob & Co', true, true, false, 70, 70, 0.0, 0.5),
	('2026-08-01', 'C3', 'Beta "quoted"', 'Bob & Co', true, false, true, 10, 20, -0.5, 0.01),
	('2026-08-01', 'C4', 'Gamma', NULL, true, false, true, 30, 37, -0.2, NULL),
	('2026-09-01', 'C9', 'Sep Only Corp', 'Carol', false, true, false, 99, 10, 8.9, 0.9)`,
	`INSERT INTO kpi_daily (day, month, dau, wau, mau, dau_mau) VALUES
	('2026-09-13', '2026-09-01', 11, 40, 95, 0.1158), ('2026-09-14', '2026-09-01', 12, 41, 100, 0.12)`,
	// Two salespeople, two features: the report sums them.
	`INSERT INTO feature_adoption (month, salesperson, feature, activated_customers, adopters) VALUES
	('2026-08-01', 'Alice', 'search', 2, 1), ('2026-08-01', 'Bob & Co', 'search', 2, 2),
	('2026-08-01', 'Alice', 'reorder', 2, 0), ('2026-08-01', 'Bob & Co', 'reorder', 2, 1),
	('2026-09-01', 'Carol', 'search', 2, 2)`,
	`INSERT INTO feature_segments (month, salesperson, segment, features, customers) VALUES
	('2026-08-01', 'Alice', 'search', 1, 1), ('2026-08-01', 'Alice', 'none', 0, 1),
	('2026-08-01', 'Bob & Co', 'search', 1, 1), ('2026-08-01', 'Bob & Co', 'search + reorder', 2, 1)`,
	`INSERT INTO action_list (month, customer_ref, name, salesperson, play, reason, suggested_task, priority, position) VALUES
	('2026-08-01', 'C1', '` + evil + `', 'Alice', 'low_utilization', 'utilization 42 % (21 of 50 seats), below 60 %', 'Review usage', 2, 1),
	('2026-08-01', 'C3', 'Beta', 'Bob & Co', 'churn_risk', 'no longer active: score 0 after 20 the month before', 'Call the key contact', 1, 1),
	('2026-08-01', 'C2', 'Acme', 'Bob & Co', 'champion', 'score 70, rank 1 of 3 active customers', 'Thank the team', 3, 2)`,
	// Five weeks, two salespeople (no overall rows: the report sums them); the
	// first three weeks have no weekly-active count yet.
	`INSERT INTO weekly_active_customers (week, salesperson, activated_customers, active_customers,
		weekly_active_customers, weekly_active_rate) VALUES
	('2026-08-10', 'Alice', 2, 2, NULL, NULL), ('2026-08-10', 'Bob & Co', 2, 1, NULL, NULL),
	('2026-08-17', 'Alice', 2, 1, NULL, NULL), ('2026-08-17', 'Bob & Co', 2, 2, NULL, NULL),
	('2026-08-24', 'Alice', 2, 2, NULL, NULL), ('2026-08-24', 'Bob & Co', 2, 2, NULL, NULL),
	('2026-08-31', 'Alice', 2, 2, 1, 0.5), ('2026-08-31', 'Bob & Co', 2, 2, 1, 0.5),
	('2026-09-07', 'Alice', 2, 2, 1, 0.5), ('2026-09-07', 'Bob & Co', 0, 0, 0, NULL)`,
}

func openDB(t *testing.T, stmts ...[]string) *sql.DB {
	t.Helper()
	db := sqltest.DB(t)
	for _, list := range append([][]string{schema}, stmts...) {
		for _, s := range list {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%v\n%s", err, s)
			}
		}
	}
	return db
}

func render(t *testing.T, db *sql.DB, info ReportInfo) string {
	t.Helper()
	var buf bytes.Buffer
	if err := RenderReport(context.Background(), db, &buf, info); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var (
	tagRe      = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*?)(/?)>`)
	voidTags   = map[string]bool{"meta": true, "br": true, "hr": true, "img": true, "input": true, "link": true}
	sectionRe  = regexp.MustCompile(`(?s)<section id="([a-z-]+)">(.*?)</section>`)
	pointsRe   = regexp.MustCompile(`<polyline class="rate-line" points="([^"]*)"`)
	barNameRe  = regexp.MustCompile(`<text class="bar-name"[^>]*>([^<]*)</text>`)
	barValRe   = regexp.MustCompile(`<text class="bar-val"[^>]*>([^<]*)</text>`)
	tableRowRe = regexp.MustCompile(`(?s)<tr><td>(C\d+)</td>`)
)

// checkHTML verifies that tags are balanced and that nothing references an external resource.
func checkHTML(t *testing.T, out string) {
	t.Helper()
	if !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, `<meta charset="utf-8">`) {
		t.Error("missing doctype or charset")
	}
	var stack []string
	for _, m := range tagRe.FindAllStringSubmatch(out, -1) {
		name := strings.ToLower(m[2])
		switch {
		case m[1] == "/":
			if len(stack) == 0 || stack[len(stack)-1] != name {
				t.Fatalf("unbalanced </%s>, open: %v", name, stack)
			}
			stack = stack[:len(stack)-1]
		case m[4] == "/" || voidTags[name]:
		default:
			stack = append(stack, name)
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed tags: %v", stack)
	}
	if strings.Contains(out, "NaN") {
		t.Error("output contains NaN")
	}
	low := strings.ToLower(out)
	for _, bad := range []string{"<script", "http://", "https://", "src=", "href=", "url(", "@import", "<link", "<iframe"} {
		if strings.Contains(low, bad) {
			t.Errorf("output contains %q", bad)
		}
	}
}

func section(t *testing.T, out, id string) string {
	t.Helper()
	for _, m := range sectionRe.FindAllStringSubmatch(out, -1) {
		if m[1] == id {
			return m[2]
		}
	}
	t.Fatalf("section %q not found", id)
	return ""
}

func mustContain(t *testing.T, where, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s: missing %q", where, w)
		}
	}
}

func TestRenderReport(t *testing.T) {
	db := openDB(t, handMade)
	info := ReportInfo{
		RunID: "run-42", StartedAt: time.Date(2026, 9, 14, 8, 30, 0, 0, time.UTC), Duration: 2345 * time.Millisecond,
		RowsOut: map[string]int64{"kpi_overview_monthly": 3, "customer_monthly": 1234, "runs": 1}, Rejects: 7,
		Warnings: []string{`salesperson "<b>x</b>" unknown`},
	}
	out := render(t, db, info)
	checkHTML(t, out)

	mustContain(t, "header", out, "uptake — adoption report", "run-42", "2026-09-14 08:30:00 UTC", "2.3s",
		"Jul 2026 – Sep 2026 (to date)", "<dd>7</dd>", "&lt;b&gt;x&lt;/b&gt;", "2026-09-14 (DAU 12 · MAU 100)")
	mustContain(t, "escaping", out, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co", "Beta &#34;quoted&#34;")

	head := section(t, out, "headline")
	mustContain(t, "headline", head, "Headline — Aug 2026", `<div class="value">75.0 %</div>`,
		"3 active / 4 activated", `<div class="value">35.0 %</div>`, "4\u2009321 active / 12\u2009345 users",
		`<div class="value">41.2 %</div>`, "avg DAU 1\u2009781.6", `<div class="value">65.0 %</div>`,
		"below 60 %: 1 customers", `<div class="value neg">-10.0 %</div>`, "score 90 (prev 100)",
		`<div class="label">Churn rate</div><div class="value">12.5 %</div><div class="detail">1 of 8 activated at the start</div>`)
	if strings.Contains(head, "25.0 %") {
		t.Error("headline uses the incomplete month")
	}

	chart := section(t, out, "active-rate")
	if n := strings.Count(chart, "<svg"); n != 1 {
		t.Fatalf("active-rate: %d svg", n)
	}
	pts := pointsRe.FindAllStringSubmatch(chart, -1)
	if len(pts) != 1 || len(strings.Fields(pts[0][1])) != 2 {
		t.Errorf("rate polyline: want one with 2 complete points, got %q", pts)
	}
	if c, h, d := strings.Count(chart, "<circle"), strings.Count(chart, `class="pt hollow"`), strings.Count(chart, `class="rate-line todate"`); c != 3 || h != 1 || d != 1 {
		t.Errorf("points %d hollow %d dashed %d, want 3/1/1", c, h, d)
	}
	mustContain(t, "active-rate", chart, ">Jul 2026<", ">(to date)</tspan>", "<title>Sep 2026 (to date): 25.0 %",
		"<title>Aug 2026: 75.0 % (3 of 4 activated customers active)</title>")

	sales := section(t, out, "salespeople")
	var names, vals []string
	for _, m := range barNameRe.FindAllStringSubmatch(sales, -1) {
		names = append(names, m[1])
	}
	for _, m := range barValRe.FindAllStringSubmatch(sales, -1) {
		vals = append(vals, m[1])
	}
	if strings.Join(names, "|") != "Bob &amp; Co|Alice" || strings.Join(vals, "|") != "60.0 %|20.0 %" {
		t.Errorf("bars: names %q values %q", names, vals)
	}
	assertDescending(t, vals)
	mustContain(t, "salespeople", sales, "Usage per salesperson — Aug 2026", `<td class="neg">-20.0 %</td>`)
	if strings.Contains(sales, "Carol") {
		t.Error("salespeople shows the incomplete month")
	}

	ov := section(t, out, "overview")
	if i, j := strings.Index(ov, "Sep 2026 <small>(to date)"), strings.Index(ov, "Jul 2026"); i < 0 || j < i {
		t.Error("overview must list most recent month first")
	}
	mustContain(t, "overview", ov, `<tr class="todate"><td>Sep 2026 <small>(to date)</small></td>`, "<td>12\u2009345</td>", "<td>—</td>")

	cust := section(t, out, "customers")
	var refs []string
	for _, m := range tableRowRe.FindAllStringSubmatch(cust, -1) {
		refs = append(refs, m[1])
	}
	if got := strings.Join(refs, ","); got != "C2,C1,C3,C4" {
		t.Errorf("champions then churn risks: got %s, want C2,C1,C3,C4", got)
	}
	mustContain(t, "customers", cust, "(unassigned)", `<td class="zero">0.0 %</td>`, `<td class="pos">+25.0 %</td>`)
	if strings.Contains(out, "Sep Only Corp") || strings.Contains(cust, `class="more"`) {
		t.Error("customers: wrong month or unexpected overflow line")
	}
	mustContain(t, "footer", out, "<code>customer_monthly</code> 1\u2009234 rows", "<code>runs</code> 1 row<", "Monthly active rate</dt>", "Weekly-active</dt>")

	// The weekly trend: each week summed over the salespeople.
	wk := section(t, out, "weekly-active")
	if n := strings.Count(wk, "<svg"); n != 1 {
		t.Fatalf("weekly-active: %d svg", n)
	}
	// Week of 7 Sep: Alice 1 + Bob 0 = 1 of 2 + 0 = 2 activated (Bob's NULL rate is no obstacle).
	mustContain(t, "weekly-active", wk, "Week of 7 Sep 2026: <strong>1</strong> weekly-active of 2 activated customers (50.0 %), 2 active that week.",
		"<title>Week of 31 Aug 2026: 2 weekly-active customers (50.0 % of 4 activated), 4 active that week</title>",
		"<title>Week of 10 Aug 2026: 3 active customers", ">10 Aug<", ">7 Sep<", ">2026<", "Last 5 complete weeks", "fewer than 4 weeks of history")
	// Active that week: 5 points on one line; weekly-active: the last 2 weeks only.
	if got := weeklyPoints(wk); got != "active-line:5 rate-line:2" {
		t.Errorf("weekly-active lines: %s", got)
	}
	if c := strings.Count(wk, `<circle class="pt"`); c != 2 {
		t.Errorf("weekly-active: %d weekly points, want 2", c)
	}
}

var polyRe = regexp.MustCompile(`<polyline class="([a-z-]+)" points="([^"]*)"`)

// weeklyPoints lists the polylines of a chart with their number of points.
func weeklyPoints(svg string) string {
	var out []string
	for _, m := range polyRe.FindAllStringSubmatch(svg, -1) {
		out = append(out, m[1]+":"+strconv.Itoa(len(strings.Fields(m[2]))))
	}
	return strings.Join(out, " ")
}

func assertDescending(t *testing.T, vals []string) {
	t.Helper()
	prev := math.Inf(1)
	for _, v := range vals {
		f, err := strconv.ParseFloat(strings.TrimSuffix(v, " %"), 64)
		if err != nil || f > prev {
			t.Errorf("bar values not descending: %q", vals)
			return
		}
		prev = f
	}
}

func TestRenderReportEmpty(t *testing.T) {
	out := render(t, openDB(t), ReportInfo{})
	checkHTML(t, out)
	if strings.Contains(out, "<svg") {
		t.Error("empty report should not draw charts")
	}
	for _, id := range []string{"headline", "active-rate", "weekly-active", "salespeople", "overview", "customers"} {
		mustContain(t, id, section(t, out, id), `<p class="nodata">no data`)
	}
	mustContain(t, "footer", out, "no tables reported")

	// Only an incomplete month: no headline, but the curve still shows it.
	db := openDB(t, []string{`INSERT INTO kpi_overview_monthly (month, complete, monthly_active_rate) VALUES ('2026-09-01', false, NULL)`})
	out = render(t, db, ReportInfo{})
	checkHTML(t, out)
	mustContain(t, "incomplete only", out, "no complete month", "no rate", "(to date)")
}

func TestRenderReportMissingTable(t *testing.T) {
	db := sqltest.DB(t)
	if err := RenderReport(context.Background(), db, &bytes.Buffer{}, ReportInfo{}); err == nil ||
		!strings.Contains(err.Error(), "kpi_overview_monthly") {
		t.Errorf("want an error naming the missing table, got %v", err)
	}
}

func TestRateChartEdgeCases(t *testing.T) {
	month := func(m int, rate any, complete bool) kpi {
		k := kpi{Month: time.Date(2026, time.Month(m), 1, 0, 0, 0, 0, time.UTC), Complete: sql.NullBool{Bool: complete, Valid: true}}
		if f, ok := rate.(float64); ok {
			k.Rate = sql.NullFloat64{Float64: f, Valid: true}
		}
		return k
	}
	cases := []struct {
		name               string
		rows               []kpi
		lines, points, pts int
		dashed, na         int
	}{
		{"single", []kpi{month(1, 0.4, true)}, 0, 0, 1, 0, 0},
		{"all zero", []kpi{month(1, 0.0, true), month(2, 0.0, true), month(3, 0.0, true)}, 1, 3, 3, 0, 0},
		{"gap", []kpi{month(1, 0.5, true), month(2, nil, true), month(3, 0.6, true), month(4, 0.7, true)}, 1, 2, 3, 0, 1},
		{"over one", []kpi{month(1, 1.4, true), month(2, 0.9, false)}, 0, 0, 2, 1, 0},
	}
	for _, c := range cases {
		svg := string(rateChart(c.rows))
		pts := pointsRe.FindAllStringSubmatch(svg, -1)
		n := 0
		for _, p := range pts {
			n += len(strings.Fields(p[1]))
		}
		if len(pts) != c.lines || n != c.points || strings.Count(svg, "<circle") != c.pts ||
			strings.Count(svg, "todate\" x1") != c.dashed || strings.Count(svg, ">no rate<") != c.na {
			t.Errorf("%s: polylines %d (%d points), circles %d, svg:\n%s", c.name, len(pts), n, strings.Count(svg, "<circle"), svg)
		}
		if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") || strings.Contains(svg, `cy="-`) {
			t.Errorf("%s: bad coordinates in %s", c.name, svg)
		}
	}
	if rateChart(nil) != "" || salesChart(nil) != "" {
		t.Error("empty charts must be empty")
	}
}

func TestFormatting(t *testing.T) {
	f := func(v float64) sql.NullFloat64 { return sql.NullFloat64{Float64: v, Valid: true} }
	for got, want := range map[string]string{
		fmtNum(sql.NullInt64{Int64: 1234567, Valid: true}): "1\u2009234\u2009567",
		fmtNum(int64(-1234)):      "-1\u2009234",
		fmtNum(sql.NullInt64{}):   "—",
		fmtPct(f(0.75)):           "75.0 %",
		fmtPct(f(1.234)):          "123.4 %",
		fmtPct(sql.NullFloat64{}): "—",
		fmtSignedPct(f(0.05)):     "+5.0 %",
		fmtSignedPct(f(-0.032)):   "-3.2 %",
		fmtSignedPct(f(-0.0001)):  "0.0 %",
		fmtDec(f(12345.67)):       "12\u2009345.7",
		truncate("abcdef", 4):     "abc…",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// realistic generates 14 months (the last one incomplete), 5 salespeople and 32 customers,
// deriving the KPI tables from customer_monthly the way the pipeline would.
var realistic = []string{
	`INSERT INTO customer_monthly (month, customer_ref, name, salesperson, complete, activated, score, prev_score,
		score_mom, active, champion, churn_risk, users, active_users, usage_pct, seats, license_utilization,
		low_utilization, utilization_increasing)
	WITH b AS (
		SELECT (DATE '2025-09-01' + to_months(m::INTEGER))::DATE AS month, m, c,
			(hash(c * 7919 + m) % 1000) / 1000.0 AS r, (hash(c * 104729) % 1000) / 1000.0 AS q
		FROM range(14) t(m), range(1, 33) u(c)
	), s AS (
		SELECT *, least(100, round(15 + 45 * q + 25 * r + 2 * m))::BIGINT AS score,
			(5 + hash(c) % 120)::BIGINT AS users, (CASE WHEN c % 4 = 0 THEN 0 ELSE 10 + hash(c + 1) % 100 END)::BIGINT AS seats
		FROM b
	), p AS (
		SELECT *, lag(score) OVER (PARTITION BY c ORDER BY m) AS prev_score,
			round(users * (0.15 + 0.6 * q * r + 0.01 * m))::BIGINT AS active_users, c % 7 <> 3 AS activated
		FROM s
	)
	SELECT month, 'C' || lpad(c::VARCHAR, 3, '0'),
		['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne'][c % 8 + 1] || ' ' ||
			['Industries', 'Holdings GmbH', '& Sons', 'Logistics <EU>', 'SA'][c % 5 + 1],
		['Alice Martin', 'Bruno Diaz', 'Chloé Dubois', 'Dmitri Ivanov', 'Eva O''Neil'][c % 5 + 1],
		m < 13, activated, score, prev_score, score / prev_score - 1, activated AND score >= 50,
		activated AND score >= 75, activated AND (score < 40 OR score < prev_score * 0.93),
		users, active_users, active_users / users, seats,
		CASE WHEN seats > 0 THEN active_users / seats END, seats > 0 AND active_users / seats < 0.6, r > 0.5
	FROM p`,
}

const kpiAgg = `bool_and(complete), count(*), count(*) FILTER (activated), count(*) FILTER (active),
	count(*) FILTER (active) / nullif(count(*) FILTER (activated), 0), sum(score), sum(prev_score),
	sum(score) / nullif(sum(prev_score), 0) - 1, count(*) FILTER (champion), count(*) FILTER (churn_risk),
	sum(users), sum(active_users), sum(active_users) / nullif(sum(users), 0), count(*) FILTER (seats > 0),
	sum(seats), sum(active_users) FILTER (seats > 0),
	sum(active_users) FILTER (seats > 0) / nullif(sum(seats), 0), avg(license_utilization),
	count(*) FILTER (low_utilization), count(*) FILTER (utilization_increasing),
	sum(active_users) * 0.31, sum(active_users), 0.31, now()::TIMESTAMP FROM customer_monthly`

func init() {
	realistic = append(realistic,
		`INSERT INTO kpi_overview_monthly (month, `+kpiCols+`, published_at) SELECT month, `+kpiAgg+` GROUP BY month`,
		`INSERT INTO kpi_salesperson_monthly (month, salesperson, `+kpiCols+`, published_at) SELECT month, salesperson, `+kpiAgg+` GROUP BY month, salesperson`,
		`INSERT INTO kpi_daily SELECT d::DATE, '2026-10-01', 200 + hash(d) % 50, 500, 900, (200 + hash(d) % 50) / 900.0, now()::TIMESTAMP
			FROM range(DATE '2026-10-01', DATE '2026-10-15', INTERVAL 1 DAY) t(d)`,
		// 58 weeks (Sep 2025 .. the week of 5 Oct 2026), 5 salespeople; the first 3 weeks without history.
		`INSERT INTO weekly_active_customers
		WITH b AS (
			SELECT (DATE '2025-09-01' + 7 * w::INTEGER)::DATE AS week, w, s,
				['Alice Martin', 'Bruno Diaz', 'Chloé Dubois', 'Dmitri Ivanov', 'Eva O''Neil'][s + 1] AS salesperson,
				(20 + 3 * s + w / 10)::BIGINT AS activated
			FROM range(58) t(w), range(5) u(s)
		), a AS (
			SELECT *, (activated * (0.45 + 0.1 * s + 0.1 * sin(w / 4.0)))::BIGINT AS active FROM b
		)
		SELECT week, salesperson, activated, active,
			CASE WHEN w >= 3 THEN (active * (0.55 + 0.05 * cos(w / 3.0)))::BIGINT END,
			CASE WHEN w >= 3 THEN (active * (0.55 + 0.05 * cos(w / 3.0)))::BIGINT / activated END, now()::TIMESTAMP
		FROM a`)
}

func TestRenderReportRealistic(t *testing.T) {
	db := openDB(t, realistic)
	out := render(t, db, ReportInfo{RunID: "20261014T0712-7f3a", StartedAt: time.Date(2026, 10, 14, 7, 12, 0, 0, time.UTC),
		Duration: 4200 * time.Millisecond, Rejects: 3, Warnings: []string{"2 usage events reference unknown customers"},
		RowsOut: map[string]int64{"customer_monthly": 448, "kpi_overview_monthly": 14, "kpi_salesperson_monthly": 70, "kpi_daily": 14, "weekly_active_customers": 290}})
	checkHTML(t, out)
	chart := section(t, out, "active-rate")
	pts := pointsRe.FindAllStringSubmatch(chart, -1)
	if strings.Count(chart, "<circle") != 12 || len(pts) != 1 || len(strings.Fields(pts[0][1])) != 11 {
		t.Errorf("want 12 months (11 complete on the solid line), got %d circles, %q", strings.Count(chart, "<circle"), pts)
	}
	mustContain(t, "realistic", out, "Headline — Sep 2026", ">Nov 2025<", "Oct 2026 (to date)")
	sales := section(t, out, "salespeople")
	var vals []string
	for _, m := range barValRe.FindAllStringSubmatch(sales, -1) {
		vals = append(vals, m[1])
	}
	if len(vals) != 5 {
		t.Errorf("want 5 salesperson bars, got %q", vals)
	}
	assertDescending(t, vals)
	wk := section(t, out, "weekly-active")
	// The last 26 of 58 weeks, all with history: 13 labels, every other week, ending with the latest.
	if got := weeklyPoints(wk); got != "active-line:26 rate-line:26" {
		t.Errorf("weekly-active lines: %s", got)
	}
	if n := strings.Count(wk, `<text class="vlab"`); n != 13 || !strings.Contains(wk, ">5 Oct<") || strings.Contains(wk, ">28 Sep<") ||
		strings.Contains(wk, "fewer than 4 weeks") {
		t.Errorf("weekly-active: %d value labels; want 13, the latest week labelled, no history note", n)
	}
	if p := os.Getenv("UPTAKE_REPORT_HTML"); p != "" {
		if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestActionListSection(t *testing.T) {
	out := section(t, render(t, openDB(t, handMade), ReportInfo{}), "actions")
	mustContain(t, "actions", out, "Action list — Aug 2026", "<h3>Alice <span class=\"sort\">(1 plays)</span></h3>",
		"<h3>Bob &amp; Co <span class=\"sort\">(2 plays, 1 urgent)</span></h3>", "Low utilization",
		"utilization 42 % (21 of 50 seats), below 60 %", "&lt;script&gt;", `<tr class="urgent"><td>1</td><td class="text">Churn risk</td>`)
	// Bob's rows: the urgent one first.
	if strings.Index(out, "Churn risk") > strings.Index(out, ">Champion<") {
		t.Error("the champion comes before the churn risk")
	}
	db := openDB(t, []string{
		`INSERT INTO kpi_overview_monthly (month, complete) VALUES ('2026-08-01', true)`,
		`INSERT INTO action_list (month, customer_ref, salesperson, play, reason, priority, position)
			SELECT '2026-08-01', 'C' || lpad(i::VARCHAR, 2, '0'), 'Alice', 'low_utilization', 'low', 2, i + 1 FROM range(15) t(i)`,
	})
	capped := section(t, render(t, db, ReportInfo{}), "actions")
	if n := strings.Count(capped, "<td>2</td>"); n != maxActionsPerRep || !strings.Contains(capped, `<p class="more">and 3 more</p>`) ||
		!strings.Contains(capped, "(12+3 plays)") {
		t.Errorf("want %d rows and 'and 3 more', got %d", maxActionsPerRep, n)
	}
}

// Feature adoption of the latest complete month (August), summed over
// salespeople: search 1+2 of 2+2 = 75 %, reorder 0+1 of 4 = 25 %; segments
// search 1+1 = 2 first, then none and search + reorder (1 each, by name).
func TestFeatureSection(t *testing.T) {
	out := section(t, render(t, openDB(t, handMade), ReportInfo{}), "features")
	mustContain(t, "features", out, "Feature adoption — Aug 2026",
		`<td class="text">search</td><td>3</td><td>4</td><td>75.0 %</td>`, `<div style="width: 75.0%">`,
		`<td class="text">reorder</td><td>1</td><td>4</td><td>25.0 %</td>`,
		`<td class="text">search</td><td>1</td><td>2</td>`, `<td class="text">search &#43; reorder</td><td>2</td><td>1</td>`)
	if strings.Index(out, ">reorder<") < strings.Index(out, ">search<") || strings.Index(out, ">none<") < strings.LastIndex(out, ">search<") {
		t.Error("features or segments out of order")
	}
	if strings.Contains(render(t, openDB(t), ReportInfo{}), `id="features"`) {
		t.Error("a feature section without features")
	}
}

func TestCustomerCap(t *testing.T) {
	db := openDB(t, []string{
		`INSERT INTO kpi_overview_monthly (month, complete) VALUES ('2026-08-01', true)`,
		`INSERT INTO customer_monthly (month, customer_ref, name, champion, churn_risk, score)
			SELECT '2026-08-01', 'C' || i, 'Customer ' || i, true, false, i FROM range(30) t(i)`,
	})
	out := section(t, render(t, db, ReportInfo{}), "customers")
	if n := len(tableRowRe.FindAllString(out, -1)); n != 25 || !strings.Contains(out, `<p class="more">and 5 more</p>`) {
		t.Errorf("want 25 rows and 'and 5 more', got %d rows", n)
	}
	mustContain(t, "cap", out, "<td>C29</td>", `<p class="nodata">no data</p>`)
}

func TestWeeklyChartEdgeCases(t *testing.T) {
	week := func(i int, active, wa any) weekly {
		w := weekly{Week: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*i), Activated: sql.NullInt64{Int64: 10, Valid: true}}
		if n, ok := active.(int); ok {
			w.Active = sql.NullInt64{Int64: int64(n), Valid: true}
		}
		if n, ok := wa.(int); ok {
			w.Weekly = sql.NullInt64{Int64: int64(n), Valid: true}
			w.Rate = sql.NullFloat64{Float64: float64(n) / 10, Valid: true}
		}
		return w
	}
	cases := []struct {
		name, lines string
		rows        []weekly
		weeklyPts   int
		top         string
	}{
		{"single week", "", []weekly{week(0, 3, nil)}, 0, ">3<"},
		{"no history yet", "active-line:3", []weekly{week(0, 1, nil), week(1, 2, nil), week(2, 0, nil)}, 0, ">2<"},
		{"all zero", "active-line:4", []weekly{week(0, 0, nil), week(1, 0, nil), week(2, 0, nil), week(3, 0, 0)}, 1, ">1<"},
		{"large counts", "active-line:2 rate-line:2", []weekly{week(0, 12345, 6000), week(1, 12001, 7000)}, 2, ">15\u2009000<"},
	}
	for _, c := range cases {
		svg := string(weeklyChart(c.rows))
		if got := weeklyPoints(svg); got != c.lines || strings.Count(svg, `<circle class="pt"`) != c.weeklyPts || !strings.Contains(svg, c.top) {
			t.Errorf("%s: lines %q, %d weekly points, axis top %s in:\n%s", c.name, got, strings.Count(svg, `<circle class="pt"`), c.top, svg)
		}
		if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") || strings.Contains(svg, `cy="-`) {
			t.Errorf("%s: bad coordinates in %s", c.name, svg)
		}
	}
	if weeklyChart(nil) != "" {
		t.Error("empty chart must be empty")
	}
	for hi, want := range map[int64][2]int64{0: {1, 1}, 1: {1, 1}, 3: {3, 1}, 7: {8, 2}, 10: {10, 2}, 11: {15, 5}, 26: {30, 10}, 12345: {15000, 5000}} {
		if top, step := niceMax(hi); top != want[0] || step != want[1] {
			t.Errorf("niceMax(%d) = %d, %d; want %d, %d", hi, top, step, want[0], want[1])
		}
	}
}

// TestReportThresholdsComeFromTheRun: the thresholds the report shows are
// those of the run's config (the config's defaults when none is given), in
// the headline and in the definitions and tooltips, which are the
// descriptions of sql/marts/schema.yml.
func TestReportThresholdsComeFromTheRun(t *testing.T) {
	db := openDB(t, handMade)
	out := render(t, db, ReportInfo{RunID: "r"})
	mustContain(t, "defaults", out, "below 60 %:", "is below 60 %.", "rose by ≥ 10 points")

	kpi := config.Defaults().KPI
	kpi.LowUtilizationPct, kpi.IncreasingUtilizationPts = 45, 5
	out = render(t, db, ReportInfo{RunID: "r", Settings: kpi.Settings()})
	mustContain(t, "from the run", out, "below 45 %:", "is below 45 %.", "rose by ≥ 5 points")
	for _, old := range []string{"below 60 %:", "below 60 %.", "≥ 10 points", "kpi.low_utilization_pct", "kpi.increasing_utilization_pts"} { // the action list's reasons are data, made by the models
		if i := strings.Index(out, old); i >= 0 {
			t.Errorf("the report still shows a default threshold or a setting's key: …%s…", out[max(0, i-150):i+20])
		}
	}
}

// TestReportLabelsComeFromTheSchema: each column header of the report's
// tables is the column's label in sql/marts/schema.yml, with its
// definition as the tooltip; the footer defines the KPIs the same way.
func TestReportLabelsComeFromTheSchema(t *testing.T) {
	schema, err := uptakesql.ReadSchema()
	if err != nil {
		t.Fatal(err)
	}
	docs := schema.Docs(config.Defaults().KPI.Settings())
	out := render(t, openDB(t, handMade), ReportInfo{RunID: "r"})
	th := func(table, column string) string {
		d := docs[table].Columns[column]
		return fmt.Sprintf(`title="%s">%s</th>`, template.HTMLEscapeString(d.Definition), template.HTMLEscapeString(d.Label))
	}
	mustContain(t, "overview", section(t, out, "overview"), th("kpi_overview_monthly", "usage_pct"), th("kpi_overview_monthly", "dau_mau"))
	mustContain(t, "salespeople", section(t, out, "salespeople"), th("kpi_salesperson_monthly", "monthly_active_rate"))
	mustContain(t, "actions", section(t, out, "actions"), th("action_list", "reason"))
	mustContain(t, "customers", section(t, out, "customers"), th("customer_monthly", "score_mom"))
	d := docs["kpi_overview_monthly"].Columns["churn_rate"]
	mustContain(t, "footer", out, "<dt>"+d.Label+"</dt><dd>"+template.HTMLEscapeString(d.Definition)+"</dd>",
		// the definitions speak of fractions and columns; the report shows percentages and labels
		"shown in this report as a percentage (25 %)", "the tables' columns")
	if !strings.Contains(d.Definition, "churned_customers / activated_at_start") {
		t.Errorf("churn_rate's definition has lost its formula: %q", d.Definition)
	}
}
