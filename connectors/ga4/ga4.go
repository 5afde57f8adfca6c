// Package ga4 is the Google Analytics 4 Data API source: it pulls daily
// event counts per customer (a user-scoped custom dimension carries the
// customer reference) with properties.runReport, GA4's own active users per
// customer-day, day and month (reports without eventName: users do not add
// up across rows), and purchases, into raw_customer_activity,
// raw_active_users and raw_orders (source 'ga4_api:<source name>'). A
// source with use: reconcile loads the raw_reconcile_ twins instead, which
// no KPI reads.
//
// Every page of a report is read (limit/offset up to rowCount); each request
// asks for the property's quota, and the source stops with a clear message
// before the daily token quota is gone. "(other)" rows, thresholded results
// and a property time zone different from the configured one are reported
// as warnings in the run summary. Days are in the property's time zone.
package ga4

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	ga "google.golang.org/api/analyticsdata/v1beta"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/connectors/googleauth"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

func init() {
	connectors.RegisterSource("ga4", func(p config.Plugin, cfg *config.Config) (connectors.Source, error) {
		s, err := New(p, cfg.Timezone)
		if err != nil {
			return nil, err
		}
		s.excluded = cfg.Exclude.Customers
		return s, nil
	})
}

// Spec is the config block of a ga4 source.
type Spec struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// PropertyID is the GA4 property's number, such as `123456789`.
	// Required.
	PropertyID string `yaml:"property_id"`
	// CredentialsFile is a service-account key file; add the account as a
	// Viewer of the property (default: Application Default Credentials).
	CredentialsFile string `yaml:"credentials_file"`
	// CustomerDimension is the custom dimension carrying the customer
	// reference, `customUser:<name>` or `customEvent:<name>`, such as
	// `customUser:customer_ref`. Required.
	CustomerDimension string `yaml:"customer_dimension"`
	// UsageEvents are the events that count as usage, such as `[page_view,
	// view_item, add_to_cart, purchase]` (`session_start` or `first_visit`
	// alone never do). Required.
	UsageEvents []string `yaml:"usage_events"`
	// PurchaseEvent is the event whose purchases become `raw_orders` (channel
	// `web`, with GA4's `transactionId` and `purchaseRevenue`); `none` skips
	// orders, as does `use: reconcile`.
	PurchaseEvent string `yaml:"purchase_event"`
	// StartDate is the first day pulled, as YYYY-MM-DD; a run pulls up to
	// yesterday. Required.
	StartDate string `yaml:"start_date"`
	// MinDailyTokens stops the pull, failing the run and publishing
	// nothing, when fewer tokens than this are left in the property's daily
	// quota (0: never stop); the next run pulls the rest.
	MinDailyTokens int64 `yaml:"min_daily_tokens"`
	// LookbackDays is how many days before the watermark a run pulls again,
	// from 0 to 60 (default 3: GA4 data settles within 72 hours).
	LookbackDays *int `yaml:"lookback_days"`
	// Endpoint is another address of the GA4 Data API, such as
	// `http://localhost:8080` (a test server or an emulator), reached
	// without credentials: a base URL with its scheme, `http://host:port`
	// or `https://host`, to which the client adds the API's paths
	// (`/v1beta/properties/…`); a trailing slash is optional. Default:
	// Google's.
	Endpoint string `yaml:"endpoint"`
	// Use is `kpi` (the default: the rows feed the KPIs) or `reconcile`:
	// pulled for `uptake reconcile` only, into the `raw_reconcile_*` tables
	// that no KPI reads (no purchases).
	Use string `yaml:"use"`
}

// legacyTag marked the rows of every GA4 Data API source before each got
// its own tag (tag).
const legacyTag = "ga4_api"

// tag marks the rows of this source in the raw tables: one tag per source,
// so that two properties never share rows.
func (s *Source) tag() string { return legacyTag + ":" + s.name }

// Source is a configured ga4 source.
type Source struct {
	name     string
	spec     Spec
	timezone string
	start    time.Time
	lookback int
	backoff  backoff.Policy
	opts     []option.ClientOption // tests point the client at a fake
	pageSize int64
	kpi      bool     // false: use: reconcile
	excluded []string // exclude.customers: left out of the day and month users
}

var (
	propertyRE  = regexp.MustCompile(`^[0-9]{1,20}$`)
	dimensionRE = regexp.MustCompile(`^custom(User|Event):[A-Za-z_][A-Za-z0-9_]*$`)
)

// DefaultSpec is the config block of a ga4 source before its keys are read:
// the defaults of the keys a config leaves out (the configuration
// reference shows them).
func DefaultSpec() Spec { return Spec{PurchaseEvent: "purchase", MinDailyTokens: 2000} }

// New builds a ga4 source from its config block; timezone is the configured
// business time zone (compared with the property's).
func New(p config.Plugin, timezone string) (*Source, error) {
	spec := DefaultSpec()
	if err := config.DecodeStrict(p.File, p.Node, &spec); err != nil {
		return nil, err
	}
	var errs []error
	if !propertyRE.MatchString(spec.PropertyID) {
		errs = append(errs, p.PluginErrorf("property_id", "property_id must be the property's number, not %q", spec.PropertyID))
	}
	if !dimensionRE.MatchString(spec.CustomerDimension) {
		errs = append(errs, p.PluginErrorf("customer_dimension", "customer_dimension must be a custom dimension such as customUser:customer_ref, not %q", spec.CustomerDimension))
	}
	if len(spec.UsageEvents) == 0 {
		errs = append(errs, p.PluginErrorf("usage_events", "usage_events is required: the events that count as usage (e.g. page_view, add_to_cart, purchase)"))
	}
	if len(spec.UsageEvents) > 0 && allPassive(spec.UsageEvents) {
		errs = append(errs, p.PluginErrorf("usage_events", "session_start and first_visit alone do not show usage: list the events that do"))
	}
	start, err := time.Parse("2006-01-02", spec.StartDate)
	if err != nil {
		errs = append(errs, p.PluginErrorf("start_date", "start_date must be a date such as 2026-01-01, not %q", spec.StartDate))
	}
	lookback, err := connectors.LookbackDays(p, spec.LookbackDays)
	if err != nil {
		errs = append(errs, err)
	}
	if err := googleauth.CheckCredentials(p, spec.CredentialsFile); err != nil {
		errs = append(errs, err)
	}
	kpi, err := connectors.ParseGA4Use(p, spec.Use)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Source{name: p.Name, spec: spec, timezone: timezone, start: start, lookback: lookback, backoff: backoff.Default.For("ga4"),
		pageSize: 100_000, kpi: kpi}, nil
}

// GA4Use says which property the source reads and whether it feeds the
// KPIs (connectors.CheckGA4Properties).
func (s *Source) GA4Use() connectors.GA4Use {
	return connectors.GA4Use{Property: s.spec.PropertyID, Key: "property_id", KPI: s.kpi}
}

func allPassive(events []string) bool {
	for _, e := range events {
		if e != "session_start" && e != "first_visit" {
			return false
		}
	}
	return true
}

func (s *Source) service(ctx context.Context) (*ga.Service, error) {
	auth, err := googleauth.ClientOptions(ctx, googleauth.Settings{Service: "ga4", Scopes: []string{ga.AnalyticsReadonlyScope}, CredentialsFile: config.ExpandPath(s.spec.CredentialsFile), Endpoint: s.spec.Endpoint}, s.opts...)
	if err != nil {
		return nil, err
	}
	svc, err := ga.NewService(ctx, auth...)
	if err != nil {
		return nil, fmt.Errorf("ga4 client: %w", err)
	}
	return svc, nil
}

// Extract pulls the run's window of usage events per customer, GA4's own
// active users (per customer and day, per day, per month) and purchases:
// from the watermark minus lookback_days (start_date the first time) to
// yesterday, or the run's --from/--to. Days pulled again replace their
// earlier rows. A source with use: reconcile loads the raw_reconcile_
// tables instead (no KPI reads them) and no purchases.
func (s *Source) Extract(ctx context.Context, conn *sql.Conn, run connectors.Run) (connectors.Extracted, error) {
	out := connectors.Extracted{Relations: map[string][]string{}, RowsIn: map[string]int64{}, RowsRead: map[string]int64{}, Rejected: map[string]int64{}}
	from, end, ok := run.WindowFor(s.name, s.start, s.lookback)
	if !ok {
		return out, nil
	}
	run.Logger.Info("ga4 window", "source", s.name, "from", from.Format("2006-01-02"), "to", end.Format("2006-01-02"), "kpi", s.kpi)
	svc, err := s.service(ctx)
	if err != nil {
		return out, err
	}
	var quality [][]driver.Value
	pulls := []func(context.Context, *sql.Conn, *ga.Service, connectors.Run, time.Time, time.Time, *connectors.Extracted) ([][]driver.Value, error){
		s.pullEvents, s.pullUsers}
	if s.kpi && s.spec.PurchaseEvent != "none" {
		pulls = append(pulls, s.pullOrders)
	}
	for _, pull := range pulls {
		q, err := pull(ctx, conn, svc, run, from, end, &out)
		if err != nil {
			return out, err
		}
		quality = append(quality, q...)
	}
	return out, s.saveQuality(ctx, conn, run.Rows, quality, from, end, &out)
}

// usageFilter keeps the usage events.
func (s *Source) usageFilter() *ga.FilterExpression {
	return &ga.FilterExpression{Filter: &ga.Filter{FieldName: "eventName",
		InListFilter: &ga.InListFilter{Values: s.spec.UsageEvents, CaseSensitive: true}}}
}

// temp creates the connection-local table a report's rows go to, with the
// columns of a contract table.
func (s *Source) temp(ctx context.Context, conn *sql.Conn, what, contract string) (string, error) {
	table := "ga4_" + sqltext.SafeName(s.name) + "_" + what
	ddl, err := uptakesql.TempTable(contract, table)
	if err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, ddl); err != nil {
		return "", fmt.Errorf("ga4 %s: %w", s.name, err)
	}
	return table, nil
}

// loaded records a relation of the source for a contract table and its window.
func (s *Source) loaded(out *connectors.Extracted, contract, relation string, rows int64, from, to time.Time, legacy string) {
	table := connectors.GA4Table(contract, s.kpi)
	out.Relations[table] = append(out.Relations[table], relation)
	out.Windows = append(out.Windows, connectors.Window{Table: table, Source: s.tag(), From: from, To: to, Legacy: legacy})
	out.RowsIn[table] += rows
	out.RowsRead[table] += rows
}

// pullEvents reads the usage events per day, customer and event into
// raw_customer_activity.
func (s *Source) pullEvents(ctx context.Context, conn *sql.Conn, svc *ga.Service, run connectors.Run, from, end time.Time, out *connectors.Extracted) ([][]driver.Value, error) {
	activity, err := s.temp(ctx, conn, "activity", "raw_customer_activity")
	if err != nil {
		return nil, err
	}
	req := &ga.RunReportRequest{
		DateRanges:          []*ga.DateRange{dateRange(from, end)},
		Dimensions:          []*ga.Dimension{{Name: "date"}, {Name: "eventName"}, {Name: s.spec.CustomerDimension}},
		Metrics:             []*ga.Metric{{Name: "eventCount"}, {Name: "activeUsers"}},
		DimensionFilter:     s.usageFilter(),
		ReturnPropertyQuota: true,
	}
	stats := &reportStats{}
	err = s.report(ctx, run.Rows, svc, req, activity, stats, func(r *ga.Row) ([]driver.Value, bool, error) {
		day, err := parseDay(r.DimensionValues[0].Value)
		if err != nil {
			return nil, false, err
		}
		count, err1 := strconv.ParseInt(r.MetricValues[0].Value, 10, 64)
		users, err2 := strconv.ParseInt(r.MetricValues[1].Value, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, false, err
		}
		customer := r.DimensionValues[2].Value
		if customer == "(not set)" || customer == "" {
			stats.notSet += count
			return nil, false, nil
		}
		return []driver.Value{day, customer, r.DimensionValues[1].Value, count, users, s.tag()}, true, nil
	})
	if err != nil {
		return nil, err
	}
	s.loaded(out, "raw_customer_activity", activity, stats.rows, from, end, legacyTag)
	out.Warnings = append(out.Warnings, stats.warnings(s, "usage events")...)
	return stats.quality(s, run, "usage events", from, end), nil
}

// usersReport is one of the active-user reports: GA4 counts a user once
// per row, so each grain is asked for on its own (no eventName dimension),
// never summed from a finer one.
type usersReport struct {
	period     string // "day" or "month": the grain of the row's day
	dimensions []string
	customer   bool // the last dimension is the customer
}

// pullUsers reads GA4's active users (of the usage events) per customer and
// day, per day and per calendar month into raw_active_users. The reports
// start on the first day of the window's first month, so that a month's
// figure counts the whole month (to yesterday for the current month). The
// day and month reports leave out users without a customer and those of
// excluded customers, as the KPIs do.
func (s *Source) pullUsers(ctx context.Context, conn *sql.Conn, svc *ga.Service, run connectors.Run, from, end time.Time, out *connectors.Extracted) ([][]driver.Value, error) {
	table, err := s.temp(ctx, conn, "users", "raw_active_users")
	if err != nil {
		return nil, err
	}
	start := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, from.Location())
	stats := &reportStats{}
	for _, rep := range []usersReport{
		{period: "day", dimensions: []string{"date", s.spec.CustomerDimension}, customer: true},
		{period: "day", dimensions: []string{"date"}},
		{period: "month", dimensions: []string{"yearMonth"}},
	} {
		st := &reportStats{}
		if err := s.usersReport(ctx, run.Rows, svc, rep, table, start, end, st); err != nil {
			return nil, err
		}
		stats.add(st)
	}
	s.loaded(out, "raw_active_users", table, stats.rows, start, end, "")
	out.Warnings = append(out.Warnings, stats.warnings(s, "active users")...)
	return stats.quality(s, run, "active users", from, end), nil
}

// usersReport reads one active-users report into table.
func (s *Source) usersReport(ctx context.Context, rows connectors.RowWriter, svc *ga.Service, rep usersReport, table string, from, end time.Time, stats *reportStats) error {
	req := &ga.RunReportRequest{
		DateRanges:          []*ga.DateRange{dateRange(from, end)},
		Metrics:             []*ga.Metric{{Name: "activeUsers"}},
		DimensionFilter:     s.usageFilter(),
		ReturnPropertyQuota: true,
	}
	for _, d := range rep.dimensions {
		req.Dimensions = append(req.Dimensions, &ga.Dimension{Name: d})
	}
	if !rep.customer {
		// users of a known customer only: "(not set)" and excluded references left out
		notCustomer := &ga.FilterExpression{NotExpression: &ga.FilterExpression{Filter: &ga.Filter{FieldName: s.spec.CustomerDimension,
			InListFilter: &ga.InListFilter{Values: append([]string{"(not set)"}, s.excluded...), CaseSensitive: true}}}}
		req.DimensionFilter = &ga.FilterExpression{AndGroup: &ga.FilterExpressionList{Expressions: []*ga.FilterExpression{req.DimensionFilter, notCustomer}}}
	}
	return s.report(ctx, rows, svc, req, table, stats, func(r *ga.Row) ([]driver.Value, bool, error) {
		day, err := parseDay(r.DimensionValues[0].Value)
		if err != nil {
			return nil, false, err
		}
		users, err := strconv.ParseInt(r.MetricValues[0].Value, 10, 64)
		if err != nil {
			return nil, false, fmt.Errorf("activeUsers %q: %w", r.MetricValues[0].Value, err)
		}
		var customer any
		if rep.customer {
			c := r.DimensionValues[1].Value
			if c == "(not set)" || c == "" {
				return nil, false, nil
			}
			customer = c
		}
		return []driver.Value{day, rep.period, customer, users, s.tag()}, true, nil
	})
}

// pullOrders reads the purchases into raw_orders.
func (s *Source) pullOrders(ctx context.Context, conn *sql.Conn, svc *ga.Service, run connectors.Run, from, end time.Time, out *connectors.Extracted) ([][]driver.Value, error) {
	orders, err := s.temp(ctx, conn, "orders", "raw_orders")
	if err != nil {
		return nil, err
	}
	req := &ga.RunReportRequest{
		DateRanges: []*ga.DateRange{dateRange(from, end)},
		Dimensions: []*ga.Dimension{{Name: "date"}, {Name: "transactionId"}, {Name: s.spec.CustomerDimension}},
		Metrics:    []*ga.Metric{{Name: "purchaseRevenue"}},
		DimensionFilter: &ga.FilterExpression{Filter: &ga.Filter{FieldName: "eventName",
			StringFilter: &ga.StringFilter{MatchType: "EXACT", Value: s.spec.PurchaseEvent, CaseSensitive: true}}},
		ReturnPropertyQuota: true,
	}
	stats := &reportStats{}
	err = s.report(ctx, run.Rows, svc, req, orders, stats, func(r *ga.Row) ([]driver.Value, bool, error) {
		day, err := parseDay(r.DimensionValues[0].Value)
		if err != nil {
			return nil, false, err
		}
		id, customer := r.DimensionValues[1].Value, r.DimensionValues[2].Value
		if id == "(not set)" || id == "" {
			stats.notSet++
			return nil, false, nil
		}
		revenue, err := strconv.ParseFloat(r.MetricValues[0].Value, 64)
		if err != nil {
			return nil, false, fmt.Errorf("purchaseRevenue %q: %w", r.MetricValues[0].Value, err)
		}
		var cust any = customer
		if customer == "(not set)" {
			cust = nil
		}
		return []driver.Value{id, cust, nil, day, "web", revenue, s.tag()}, true, nil
	})
	if err != nil {
		return nil, err
	}
	s.loaded(out, "raw_orders", orders, stats.rows, from, end, legacyTag)
	out.Warnings = append(out.Warnings, stats.warnings(s, "purchases")...)
	return stats.quality(s, run, "purchases", from, end), nil
}

// saveQuality loads what GA4 said of its numbers, per day and report, into
// raw_source_quality (published as source_quality, for KPI and reconcile
// sources alike).
func (s *Source) saveQuality(ctx context.Context, conn *sql.Conn, rows connectors.RowWriter, quality [][]driver.Value, from, end time.Time, out *connectors.Extracted) error {
	qt, err := s.temp(ctx, conn, "quality", "raw_source_quality")
	if err != nil {
		return err
	}
	if err := rows.Append(ctx, qt, quality); err != nil {
		return err
	}
	out.Relations["raw_source_quality"] = []string{qt}
	out.Windows = append(out.Windows, connectors.Window{Table: "raw_source_quality", Source: s.tag(), From: from, To: end, Legacy: legacyTag})
	return nil
}

// retryable: 429 (RESOURCE_EXHAUSTED per minute or hour) and 5xx; an
// exhausted daily quota is not worth retrying today.
func retryable(err error) bool {
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		return false
	}
	if gerr.Code == http.StatusTooManyRequests {
		return !strings.Contains(strings.ToLower(gerr.Message), "per day")
	}
	return gerr.Code >= 500
}

func (s *Source) explain(err error) error {
	if googleauth.Unauthorized(err) {
		return fmt.Errorf("ga4 %s: %w\n  %s", s.name, err, googleauth.Hint401)
	}
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		switch {
		case gerr.Code == http.StatusNotFound:
			return fmt.Errorf("ga4 %s: %w\n  No GA4 property %s: check property_id (Admin > Property settings), and that the service account can read it", s.name, err, s.spec.PropertyID)
		case gerr.Code == http.StatusTooManyRequests:
			return fmt.Errorf("ga4 %s: %w\n  The GA4 Data API quota of property %s is used up; the run can be retried once it resets", s.name, err, s.spec.PropertyID)
		case gerr.Code == http.StatusForbidden:
			return fmt.Errorf("ga4 %s: %w\n  Add the service account as a Viewer of GA4 property %s (Admin > Property access management)", s.name, err, s.spec.PropertyID)
		}
	}
	return fmt.Errorf("ga4 %s: %w", s.name, err)
}
