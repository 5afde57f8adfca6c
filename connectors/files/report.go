package files

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Querier is what the report needs from the warehouse: *sql.DB and *sql.Conn satisfy it.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ReportInfo describes the run shown in the report header.
type ReportInfo struct {
	RunID     string
	StartedAt time.Time
	Duration  time.Duration
	RowsOut   map[string]int64 // table -> rows
	Rejects   int64
	Warnings  []string
}

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"num":      fmtNum,
	"pct":      fmtPct,
	"mom":      func(f sql.NullFloat64) template.HTML { return template.HTML(fmtSignedPct(f)) }, // digits and signs only; avoids "&#43;"
	"momClass": momClass,
	"dec":      fmtDec,
	"str":      fmtStr,
	"sp":       spName,
	"play":     playLabel,
	"barpct":   func(f sql.NullFloat64) string { return fmt.Sprintf("%.1f", 100*clamp01(f.Float64)) },
	"month":    monthLabel,
	"week":     weekLabel,
}).Parse(reportTemplate))

const (
	thinSpace = "\u2009"
	dash      = "—"
	// lowUtilizationLabel mirrors the threshold used upstream for low_utilization.
	lowUtilizationLabel = "60 %"
	// maxCustomerRows caps the champions / churn-risk tables.
	maxCustomerRows = 25
	// maxChartWeeks is how many of the latest weeks the weekly-active chart shows.
	maxChartWeeks = 26
)

// kpi is one row of kpi_overview_monthly or kpi_salesperson_monthly.
type kpi struct {
	Month       time.Time
	Salesperson sql.NullString
	Complete    sql.NullBool

	Customers, Activated, Active, Score, PrevScore, Champions, ChurnRisks, Users, ActiveUsers,
	CustomersWithSeats, Seats, SeatActiveUsers, LowUtil, UtilIncreasing, MAU sql.NullInt64

	Rate, ScoreMoM, Usage, LicUtil, AvgLicUtil, AvgDAU, DAUMAU sql.NullFloat64

	// ChurnRate is churned / activated at the start (headline only).
	Churned, ActivatedAtStart sql.NullInt64
	ChurnRate                 sql.NullFloat64
}

// kpiCols lists the shared columns of both KPI tables, in kpi.dest order.
const kpiCols = `complete, customers, activated_customers, active_customers, monthly_active_rate,
	score, prev_score, score_mom, champions, churn_risks, users, active_users, usage_pct,
	customers_with_seats, seats, seat_active_users, license_utilization, avg_license_utilization,
	low_utilization_customers, utilization_increasing_customers, avg_dau, mau, dau_mau`

func (k *kpi) dest() []any {
	return []any{&k.Complete, &k.Customers, &k.Activated, &k.Active, &k.Rate,
		&k.Score, &k.PrevScore, &k.ScoreMoM, &k.Champions, &k.ChurnRisks, &k.Users, &k.ActiveUsers, &k.Usage,
		&k.CustomersWithSeats, &k.Seats, &k.SeatActiveUsers, &k.LicUtil, &k.AvgLicUtil,
		&k.LowUtil, &k.UtilIncreasing, &k.AvgDAU, &k.MAU, &k.DAUMAU}
}

// cust is one champion / churn-risk row from customer_monthly.
type cust struct {
	Ref, Name, Salesperson sql.NullString
	Score, PrevScore       sql.NullInt64
	MoM, Usage             sql.NullFloat64
}

type custList struct {
	Title, Sort string
	Rows        []cust
	More        int
}

type daily struct {
	Day         time.Time
	DAU, MAU    sql.NullInt64
	DAUMAU      sql.NullFloat64
	Present     bool
	DayLabelISO string
}

// weekly is one week of weekly_active_customers, summed over salespeople.
type weekly struct {
	Week                      time.Time
	Activated, Active, Weekly sql.NullInt64
	Rate                      sql.NullFloat64
}

// action is one row of action_list.
type action struct {
	Salesperson, Ref, Name, Play, Reason, Task sql.NullString
	Priority                                   sql.NullInt64
}

// repActions are one salesperson's plays, most urgent first.
type repActions struct {
	Salesperson sql.NullString
	Rows        []action
	Urgent      int // priority 1
	More        int // rows past the cap
}

// maxActionsPerRep caps each salesperson's rows in the report (the whole
// list is in action_list.csv).
const maxActionsPerRep = 12

// playLabels name the plays of action_list for people.
var playLabels = map[string]string{
	"churn_risk": "Churn risk", "lost_active_users": "No active user left", "usage_drop": "Usage drop",
	"low_engagement": "Low engagement after onboarding", "low_utilization": "Low utilization", "champion": "Champion",
}

func playLabel(s sql.NullString) string {
	if l, ok := playLabels[s.String]; ok {
		return l
	}
	return s.String
}

// featureUse is one feature's adoption in the latest complete month, summed
// over salespeople.
type featureUse struct {
	Feature             sql.NullString
	Adopters, Activated sql.NullInt64
	Rate                sql.NullFloat64
}

// segment is one combination of features and its customers.
type segment struct {
	Segment   sql.NullString
	Features  sql.NullInt64
	Customers sql.NullInt64
}

type rowsOut struct {
	Table string
	Rows  int64
}

type reportView struct {
	Info         ReportInfo
	Generated    string
	Duration     string
	Period       string
	Latest       *kpi
	ChartMonths  int
	RateChart    template.HTML
	Sales        []kpi
	SalesChart   template.HTML
	WeeklyChart  template.HTML
	ChartWeeks   int
	LatestWeek   *weekly
	NoHistory    bool // some charted weeks have fewer than 4 weeks of history
	Overview     []kpi
	CustSections []custList
	Actions      []repActions
	Features     []featureUse
	Segments     []segment
	Daily        daily
	RowsOut      []rowsOut
	Definitions  [][2]string
	LowUtil      string
}

var definitions = [][2]string{
	{"Activated customer", "a customer flagged activated in customer_monthly (onboarded, not archived, with portal access)."},
	{"Active customer", "an activated customer whose monthly adoption score is at or above the activity threshold."},
	{"Monthly active rate", "active customers ÷ activated customers."},
	{"Usage %", "active users ÷ users of the customers."},
	{"License utilization", "seat-active users ÷ seats, pooled over customers with seats (can exceed 100 %); low utilization = below " + lowUtilizationLabel + "."},
	{"Utilization increasing", "customers whose license utilization is higher than the previous month."},
	{"Champion / churn risk", "customers flagged champion or churn risk in customer_monthly for the month."},
	{"Score MoM", "(score − previous month's score) ÷ previous month's score."},
	{"DAU/MAU", "average daily active users ÷ monthly active users."},
	{"Weekly-active customer", "an activated customer with at least one usage event in each of the last 4 complete ISO weeks (Monday to Sunday); a week counts the customers of the month of its Sunday."},
}

// RenderReport reads the KPI tables through q and writes a self-contained HTML report to w.
func RenderReport(ctx context.Context, q Querier, w io.Writer, info ReportInfo) error {
	overview, err := queryAll(ctx, q, "SELECT month, "+kpiCols+" FROM kpi_overview_monthly ORDER BY month",
		func(k *kpi) []any { return append([]any{&k.Month}, k.dest()...) })
	if err != nil {
		return fmt.Errorf("report: read kpi_overview_monthly: %w", err)
	}
	v := reportView{Info: info, Definitions: definitions, LowUtil: lowUtilizationLabel, Period: dash, Duration: dash}
	if !info.StartedAt.IsZero() {
		v.Generated = info.StartedAt.Format("2006-01-02 15:04:05 MST")
	}
	if info.Duration > 0 {
		v.Duration = info.Duration.Round(100 * time.Millisecond).String()
	}
	for t, n := range info.RowsOut {
		v.RowsOut = append(v.RowsOut, rowsOut{t, n})
	}
	sort.Slice(v.RowsOut, func(i, j int) bool { return v.RowsOut[i].Table < v.RowsOut[j].Table })

	if n := len(overview); n > 0 {
		v.Period = monthLabel(overview[0]) + " – " + monthLabel(overview[n-1])
		window := 6
		if n >= 12 {
			window = 12
		}
		window = min(window, n)
		v.ChartMonths = window
		v.RateChart = rateChart(overview[n-window:])
		for i := n - 1; i >= 0; i-- {
			v.Overview = append(v.Overview, overview[i])
			if v.Latest == nil && overview[i].Complete.Bool {
				v.Latest = &overview[i]
			}
		}
	}

	if v.Latest != nil {
		m := v.Latest.Month.Format("2006-01-02")
		churn, err := queryAll(ctx, q, `SELECT churned_customers, activated_at_start, churn_rate FROM kpi_overview_monthly
			WHERE month = CAST(? AS DATE)`, func(k *kpi) []any { return []any{&k.Churned, &k.ActivatedAtStart, &k.ChurnRate} }, m)
		if err != nil {
			return fmt.Errorf("report: read the churn rate: %w", err)
		}
		if len(churn) == 1 {
			v.Latest.Churned, v.Latest.ActivatedAtStart, v.Latest.ChurnRate = churn[0].Churned, churn[0].ActivatedAtStart, churn[0].ChurnRate
		}
		v.Sales, err = queryAll(ctx, q, "SELECT month, salesperson, "+kpiCols+
			" FROM kpi_salesperson_monthly WHERE month = CAST(? AS DATE)"+
			" ORDER BY usage_pct DESC NULLS LAST, salesperson NULLS LAST",
			func(k *kpi) []any { return append([]any{&k.Month, &k.Salesperson}, k.dest()...) }, m)
		if err != nil {
			return fmt.Errorf("report: read kpi_salesperson_monthly: %w", err)
		}
		v.SalesChart = salesChart(v.Sales)
		// feature_adoption and feature_segments have no overall rows: sums over salespeople.
		if v.Features, err = queryAll(ctx, q, `SELECT feature, sum(adopters)::BIGINT, sum(activated_customers)::BIGINT,
			sum(adopters) / nullif(sum(activated_customers), 0) FROM feature_adoption WHERE month = CAST(? AS DATE)
			GROUP BY feature ORDER BY 4 DESC NULLS LAST, feature`,
			func(f *featureUse) []any { return []any{&f.Feature, &f.Adopters, &f.Activated, &f.Rate} }, m); err != nil {
			return fmt.Errorf("report: read feature_adoption: %w", err)
		}
		if v.Segments, err = queryAll(ctx, q, `SELECT segment, any_value(features), sum(customers)::BIGINT FROM feature_segments
			WHERE month = CAST(? AS DATE) GROUP BY segment ORDER BY 3 DESC, segment`,
			func(g *segment) []any { return []any{&g.Segment, &g.Features, &g.Customers} }, m); err != nil {
			return fmt.Errorf("report: read feature_segments: %w", err)
		}
		const custQuery = `SELECT customer_ref, name, salesperson, score, prev_score, score_mom, usage_pct
			FROM customer_monthly WHERE month = CAST(? AS DATE) AND %s ORDER BY %s, customer_ref`
		for _, s := range [][4]string{
			{"Champions", "by score, highest first", "champion", "score DESC NULLS LAST"},
			{"Churn risks", "by score MoM, steepest drop first", "churn_risk", "score_mom ASC NULLS LAST, score ASC"},
		} {
			l, err := customers(ctx, q, fmt.Sprintf(custQuery, s[2], s[3]), m)
			if err != nil {
				return err
			}
			l.Title, l.Sort = s[0], s[1]
			v.CustSections = append(v.CustSections, l)
		}
	}

	plays, err := queryAll(ctx, q, `SELECT salesperson, customer_ref, name, play, reason, suggested_task, priority
		FROM action_list ORDER BY salesperson, position`,
		func(a *action) []any {
			return []any{&a.Salesperson, &a.Ref, &a.Name, &a.Play, &a.Reason, &a.Task, &a.Priority}
		})
	if err != nil {
		return fmt.Errorf("report: read action_list: %w", err)
	}
	for _, a := range plays {
		if n := len(v.Actions); n == 0 || v.Actions[n-1].Salesperson != a.Salesperson {
			v.Actions = append(v.Actions, repActions{Salesperson: a.Salesperson})
		}
		r := &v.Actions[len(v.Actions)-1]
		if a.Priority.Int64 == 1 {
			r.Urgent++
		}
		if len(r.Rows) < maxActionsPerRep {
			r.Rows = append(r.Rows, a)
		} else {
			r.More++
		}
	}

	// weekly_active_customers has no overall rows: the overall figures are
	// the sums over salespeople (each customer has one salesperson a week).
	weeks, err := queryAll(ctx, q, `SELECT week, sum(activated_customers)::BIGINT, sum(active_customers)::BIGINT,
		sum(weekly_active_customers)::BIGINT, sum(weekly_active_customers) / nullif(sum(activated_customers), 0)
		FROM weekly_active_customers GROUP BY week ORDER BY week`,
		func(w *weekly) []any { return []any{&w.Week, &w.Activated, &w.Active, &w.Weekly, &w.Rate} })
	if err != nil {
		return fmt.Errorf("report: read weekly_active_customers: %w", err)
	}
	if n := len(weeks); n > 0 {
		window := min(n, maxChartWeeks)
		v.ChartWeeks = window
		v.WeeklyChart = weeklyChart(weeks[n-window:])
		v.LatestWeek = &weeks[n-1]
		v.NoHistory = !weeks[n-window].Weekly.Valid
	}

	days, err := queryAll(ctx, q, "SELECT day, dau, mau, dau_mau FROM kpi_daily ORDER BY day DESC LIMIT 1",
		func(d *daily) []any { return []any{&d.Day, &d.DAU, &d.MAU, &d.DAUMAU} })
	if err != nil {
		return fmt.Errorf("report: read kpi_daily: %w", err)
	}
	if len(days) > 0 {
		v.Daily = days[0]
		v.Daily.Present = true
		v.Daily.DayLabelISO = days[0].Day.Format("2006-01-02")
	}

	var buf bytes.Buffer
	if err := reportTmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	_, err = buf.WriteTo(w)
	return err
}

func customers(ctx context.Context, q Querier, query, month string) (custList, error) {
	rows, err := queryAll(ctx, q, query, func(c *cust) []any {
		return []any{&c.Ref, &c.Name, &c.Salesperson, &c.Score, &c.PrevScore, &c.MoM, &c.Usage}
	}, month)
	if err != nil {
		return custList{}, fmt.Errorf("report: read customer_monthly: %w", err)
	}
	if len(rows) > maxCustomerRows {
		return custList{Rows: rows[:maxCustomerRows], More: len(rows) - maxCustomerRows}, nil
	}
	return custList{Rows: rows}, nil
}

func queryAll[T any](ctx context.Context, q Querier, query string, dest func(*T) []any, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var t T
		if err := rows.Scan(dest(&t)...); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ---- formatting ----

func groupDigits(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(thinSpace)
		}
		b.WriteRune(c)
	}
	return sign + b.String()
}

// fmtNum formats an integer with thin-space thousands separators; NULL is "—".
func fmtNum(v any) string {
	switch n := v.(type) {
	case sql.NullInt64:
		if !n.Valid {
			return dash
		}
		return groupDigits(strconv.FormatInt(n.Int64, 10))
	case int64:
		return groupDigits(strconv.FormatInt(n, 10))
	case int:
		return groupDigits(strconv.Itoa(n))
	}
	return fmt.Sprint(v)
}

// fmtDec formats a decimal with one digit after the point.
func fmtDec(f sql.NullFloat64) string {
	if !f.Valid || math.IsNaN(f.Float64) || math.IsInf(f.Float64, 0) {
		return dash
	}
	s := strconv.FormatFloat(f.Float64, 'f', 1, 64)
	i := strings.IndexByte(s, '.')
	return groupDigits(s[:i]) + s[i:]
}

// fmtPct formats a fraction as a percentage with one decimal: 0.75 -> "75.0 %".
func fmtPct(f sql.NullFloat64) string {
	if !f.Valid || math.IsNaN(f.Float64) || math.IsInf(f.Float64, 0) {
		return dash
	}
	return strconv.FormatFloat(f.Float64*100, 'f', 1, 64) + " %"
}

// fmtSignedPct formats a signed fraction: 0.05 -> "+5.0 %", -0.032 -> "-3.2 %".
func fmtSignedPct(f sql.NullFloat64) string {
	switch momClass(f) {
	case "pos":
		return "+" + fmtPct(f)
	case "zero":
		return "0.0 %"
	}
	return fmtPct(f)
}

func momClass(f sql.NullFloat64) string {
	switch {
	case !f.Valid || math.IsNaN(f.Float64):
		return ""
	case math.Abs(f.Float64) < 0.0005:
		return "zero"
	case f.Float64 > 0:
		return "pos"
	}
	return "neg"
}

func fmtStr(s sql.NullString) string {
	if !s.Valid || s.String == "" {
		return dash
	}
	return s.String
}

func spName(s sql.NullString) string {
	if !s.Valid || s.String == "" {
		return "(unassigned)"
	}
	return s.String
}

// monthLabel renders "Sep 2026", with "(to date)" for an incomplete month.
func monthLabel(k kpi) string {
	if !k.Complete.Bool {
		return k.Month.Format("Jan 2006") + " (to date)"
	}
	return k.Month.Format("Jan 2006")
}

// weekLabel renders a week by its Monday: "12 Oct 2026".
func weekLabel(t time.Time) string { return t.Format("2 Jan 2006") }

// ---- SVG charts (built only from numbers and escaped strings) ----

var esc = template.HTMLEscapeString

func clamp01(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Max(0, math.Min(1, v))
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// rateChart draws the monthly active rate over rows (oldest first) on a fixed 0–100 % axis.
func rateChart(rows []kpi) template.HTML {
	n := len(rows)
	if n == 0 {
		return ""
	}
	const W, H, L, R, T, B = 1160.0, 290.0, 60.0, 16.0, 26.0, 54.0
	step := (W - L - R) / float64(n)
	x := func(i int) float64 { return L + step*(float64(i)+0.5) }
	y := func(v float64) float64 { return T + (H-T-B)*(1-clamp01(v)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="Monthly active rate, last %d months">`, W, H, n)
	for p := 0; p <= 100; p += 20 {
		yy := y(float64(p) / 100)
		fmt.Fprintf(&b, `<line class="grid" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/><text class="ylab" x="%g" y="%.1f">%d %%</text>`,
			L, W-R, yy, yy, L-8, yy+4, p)
	}
	var run []string
	flush := func() {
		if len(run) >= 2 {
			fmt.Fprintf(&b, `<polyline class="rate-line" points="%s"/>`, strings.Join(run, " "))
		}
		run = nil
	}
	for i, r := range rows {
		if !r.Rate.Valid || !r.Complete.Bool {
			flush()
			continue
		}
		run = append(run, fmt.Sprintf("%.1f,%.1f", x(i), y(r.Rate.Float64)))
	}
	flush()
	for i := 1; i < n; i++ {
		a, c := rows[i-1], rows[i]
		if a.Rate.Valid && c.Rate.Valid && (!a.Complete.Bool || !c.Complete.Bool) {
			fmt.Fprintf(&b, `<line class="rate-line todate" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`,
				x(i-1), y(a.Rate.Float64), x(i), y(c.Rate.Float64))
		}
	}
	for i, r := range rows {
		xx := x(i)
		fmt.Fprintf(&b, `<text class="xlab" x="%.1f" y="%g">%s`, xx, H-B+20, r.Month.Format("Jan 2006"))
		if !r.Complete.Bool {
			fmt.Fprintf(&b, `<tspan class="todate" x="%.1f" dy="16">(to date)</tspan>`, xx)
		}
		b.WriteString(`</text>`)
		if !r.Rate.Valid {
			fmt.Fprintf(&b, `<text class="na" x="%.1f" y="%.1f">no rate</text>`, xx, y(0)-6)
			continue
		}
		cls := "pt"
		if !r.Complete.Bool {
			cls = "pt hollow"
		}
		yy := y(r.Rate.Float64)
		fmt.Fprintf(&b, `<circle class="%s" cx="%.1f" cy="%.1f" r="5"><title>%s: %s (%s of %s activated customers active)</title></circle>`,
			cls, xx, yy, esc(monthLabel(r)), esc(fmtPct(r.Rate)), esc(fmtNum(r.Active)), esc(fmtNum(r.Activated)))
		fmt.Fprintf(&b, `<text class="vlab" x="%.1f" y="%.1f">%s</text>`, xx, yy-11, esc(fmtPct(r.Rate)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// salesChart draws usage % per salesperson as horizontal bars, in the given (sorted) order.
func salesChart(rows []kpi) template.HTML {
	n := len(rows)
	if n == 0 {
		return ""
	}
	const W, L, R, T, rowH = 1160.0, 210.0, 90.0, 6.0, 30.0
	H := T + rowH*float64(n) + 26
	pw := W - L - R
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="Usage per salesperson">`, W, H)
	for p := 0; p <= 100; p += 25 {
		xx := L + pw*float64(p)/100
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%g" y2="%g"/><text class="xlab" x="%.1f" y="%g">%d %%</text>`,
			xx, xx, T, H-22, xx, H-6, p)
	}
	for i, r := range rows {
		top := T + rowH*float64(i)
		mid := top + rowH/2 + 4
		name := spName(r.Salesperson)
		fmt.Fprintf(&b, `<text class="bar-name" x="%g" y="%.1f">%s</text>`, L-10, mid, esc(truncate(name, 28)))
		w := 0.0
		if r.Usage.Valid {
			w = pw * clamp01(r.Usage.Float64)
			fmt.Fprintf(&b, `<rect class="bar" x="%g" y="%.1f" width="%.1f" height="%g"><title>%s: %s (%s of %s users active)</title></rect>`,
				L, top+5, w, rowH-10, esc(name), esc(fmtPct(r.Usage)), esc(fmtNum(r.ActiveUsers)), esc(fmtNum(r.Users)))
		}
		fmt.Fprintf(&b, `<text class="bar-val" x="%.1f" y="%.1f">%s</text>`, L+w+6, mid, esc(fmtPct(r.Usage)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceMax returns the top of a count axis at or above max, and its tick step
// (1, 2 or 5 times a power of ten, with at most 5 steps).
func niceMax(hi int64) (top, step int64) {
	if hi <= 0 {
		return 1, 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if step = m * p; (hi+step-1)/step <= 5 {
				return (hi + step - 1) / step * step, step
			}
		}
	}
}

// weeklyChart draws, per week (oldest first), the weekly-active customers and,
// lighter, the customers active that week, on a count axis from 0. A week
// without 4 weeks of history has no weekly-active point.
func weeklyChart(rows []weekly) template.HTML {
	n := len(rows)
	if n == 0 {
		return ""
	}
	const W, H, L, R, T, B = 1160.0, 300.0, 60.0, 16.0, 34.0, 40.0
	var hi int64
	for _, r := range rows {
		hi = max(hi, r.Active.Int64, r.Weekly.Int64)
	}
	top, tick := niceMax(hi)
	step := (W - L - R) / float64(n)
	x := func(i int) float64 { return L + step*(float64(i)+0.5) }
	y := func(v int64) float64 { return T + (H-T-B)*(1-float64(v)/float64(top)) }
	// Label every k-th week, always the latest: at most 13 labels.
	k := (n + 12) / 13
	labeled := func(i int) bool { return (n-1-i)%k == 0 }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="Weekly-active customers, last %d weeks">`, W, H, n)
	for v := int64(0); v <= top; v += tick {
		yy := y(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/><text class="ylab" x="%g" y="%.1f">%s</text>`,
			L, W-R, yy, yy, L-8, yy+4, esc(fmtNum(v)))
	}
	// legend, top left
	fmt.Fprintf(&b, `<g class="legend"><line class="rate-line" x1="%g" x2="%g" y1="12" y2="12"/><text x="%g" y="16">weekly-active: active in each of the last 4 weeks</text>`,
		L, L+24, L+30)
	fmt.Fprintf(&b, `<line class="active-line" x1="%g" x2="%g" y1="12" y2="12"/><text x="%g" y="16">active that week</text></g>`,
		L+340, L+364, L+370)
	line := func(cls string, val func(weekly) sql.NullInt64) {
		var run []string
		flush := func() {
			if len(run) >= 2 {
				fmt.Fprintf(&b, `<polyline class="%s" points="%s"/>`, cls, strings.Join(run, " "))
			}
			run = nil
		}
		for i, r := range rows {
			if v := val(r); v.Valid {
				run = append(run, fmt.Sprintf("%.1f,%.1f", x(i), y(v.Int64)))
			} else {
				flush()
			}
		}
		flush()
	}
	line("active-line", func(r weekly) sql.NullInt64 { return r.Active })
	line("rate-line", func(r weekly) sql.NullInt64 { return r.Weekly })
	year := 0 // of the last labelled week: a label shows the year when it changes
	for i, r := range rows {
		xx := x(i)
		if labeled(i) {
			fmt.Fprintf(&b, `<text class="xlab" x="%.1f" y="%g">%s</text>`, xx, H-B+20, esc(r.Week.Format("2 Jan")))
			if r.Week.Year() != year {
				year = r.Week.Year()
				fmt.Fprintf(&b, `<text class="xlab year" x="%.1f" y="%g">%d</text>`, xx, H-B+35, year)
			}
		}
		if r.Active.Valid {
			fmt.Fprintf(&b, `<circle class="pt-active" cx="%.1f" cy="%.1f" r="3"><title>Week of %s: %s active customers (at least one usage event)</title></circle>`,
				xx, y(r.Active.Int64), esc(weekLabel(r.Week)), esc(fmtNum(r.Active)))
		}
		if !r.Weekly.Valid {
			continue // fewer than 4 weeks of history
		}
		yy := y(r.Weekly.Int64)
		fmt.Fprintf(&b, `<circle class="pt" cx="%.1f" cy="%.1f" r="4.5"><title>Week of %s: %s weekly-active customers (%s of %s activated), %s active that week</title></circle>`,
			xx, yy, esc(weekLabel(r.Week)), esc(fmtNum(r.Weekly)), esc(fmtPct(r.Rate)), esc(fmtNum(r.Activated)), esc(fmtNum(r.Active)))
		if labeled(i) {
			fmt.Fprintf(&b, `<text class="vlab" x="%.1f" y="%.1f">%s</text>`, xx, yy-10, esc(fmtNum(r.Weekly)))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
