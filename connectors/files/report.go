package files

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"time"

	"github.com/uptake-dev/uptake/config"
	uptakesql "github.com/uptake-dev/uptake/sql"
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
	// Settings are the run's KPI settings ("kpi.low_utilization_pct" → "60"),
	// written into the definitions; nil for the config's defaults.
	Settings map[string]string
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
	Head        template.HTML // the header cells
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

// perRep groups the action list's rows (sorted by salesperson) per
// salesperson, at most maxActionsPerRep rows each.
func perRep(plays []action) []repActions {
	var reps []repActions
	for _, a := range plays {
		if n := len(reps); n == 0 || reps[n-1].Salesperson != a.Salesperson {
			reps = append(reps, repActions{Salesperson: a.Salesperson})
		}
		r := &reps[len(reps)-1]
		if a.Priority.Int64 == 1 {
			r.Urgent++
		}
		if len(r.Rows) < maxActionsPerRep {
			r.Rows = append(r.Rows, a)
		} else {
			r.More++
		}
	}
	return reps
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

	docs map[string]uptakesql.TableDoc // the published tables' descriptions, with the run's settings
}

// definitionsShown are the columns the report's footer defines, in order:
// table and column of sql/marts/schema.yml, whose label and definition
// (with the run's settings) it prints.
var definitionsShown = [][2]string{
	{"kpi_overview_monthly", "activated_customers"},
	{"kpi_overview_monthly", "active_customers"},
	{"kpi_overview_monthly", "monthly_active_rate"},
	{"kpi_overview_monthly", "usage_pct"},
	{"kpi_overview_monthly", "license_utilization"},
	{"kpi_overview_monthly", "low_utilization_customers"},
	{"kpi_overview_monthly", "utilization_increasing_customers"},
	{"kpi_overview_monthly", "champions"},
	{"kpi_overview_monthly", "churn_risks"},
	{"kpi_overview_monthly", "churn_rate"},
	{"kpi_overview_monthly", "score_mom"},
	{"kpi_overview_monthly", "dau_mau"},
	{"weekly_active_customers", "weekly_active_customers"},
}

// TH is the header cell of a table's column: its label, its definition as
// the cell's tooltip (both from sql/marts/schema.yml); class "text" for a
// column of text.
func (v reportView) TH(table, column string, class ...string) template.HTML {
	d := v.docs[table].Columns[column]
	attr := ""
	if len(class) > 0 {
		attr = fmt.Sprintf(` class="%s"`, template.HTMLEscapeString(class[0]))
	}
	return template.HTML(fmt.Sprintf(`<th%s title="%s">%s</th>`, attr, template.HTMLEscapeString(d.Definition), template.HTMLEscapeString(d.Label)))
}

// Label is a column's label (from sql/marts/schema.yml).
func (v reportView) Label(table, column string) string { return v.docs[table].Columns[column].Label }

// Tip is a column's definition, with the run's settings.
func (v reportView) Tip(table, column string) string { return v.docs[table].Columns[column].Definition }

// definitions are the report's footer: each column of definitionsShown
// with its label and definition.
func definitions(docs map[string]uptakesql.TableDoc) [][2]string {
	var out [][2]string
	for _, tc := range definitionsShown {
		d := docs[tc[0]].Columns[tc[1]]
		out = append(out, [2]string{d.Label, d.Definition})
	}
	return out
}

// RenderReport reads the KPI tables through q and writes a self-contained HTML report to w.
func RenderReport(ctx context.Context, q Querier, w io.Writer, info ReportInfo) error {
	overview, err := queryAll(ctx, q, "SELECT month, "+kpiCols+" FROM kpi_overview_monthly ORDER BY month",
		func(k *kpi) []any { return append([]any{&k.Month}, k.dest()...) })
	if err != nil {
		return fmt.Errorf("report: read kpi_overview_monthly: %w", err)
	}
	settings := info.Settings
	if settings == nil {
		settings = config.Defaults().KPI.Settings()
	}
	schema, err := uptakesql.ReadSchema()
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	docs := schema.Docs(settings)
	v := reportView{Info: info, docs: docs, Definitions: definitions(docs), LowUtil: settings["kpi.low_utilization_pct"] + " %", Period: dash, Duration: dash}
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
			l.Head = v.TH("customer_monthly", "customer_ref") + v.TH("customer_monthly", "name", "text") +
				v.TH("customer_monthly", "salesperson", "text") + v.TH("customer_monthly", "score") +
				v.TH("customer_monthly", "prev_score") + v.TH("customer_monthly", "score_mom") + v.TH("customer_monthly", "usage_pct")
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
	v.Actions = perRep(plays)

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
