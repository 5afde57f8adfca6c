// Package ga4 is the Google Analytics 4 Data API source: it pulls daily
// event counts per customer (a user-scoped custom dimension carries the
// customer reference) with properties.runReport, and purchases, into
// raw_customer_activity and raw_orders (source 'ga4_api:<source name>').
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

	"github.com/uptake-dev/uptake/etl/warehouse"
	ga "google.golang.org/api/analyticsdata/v1beta"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
)

func init() {
	connectors.RegisterSource("ga4", func(p config.Plugin, cfg *config.Config) (connectors.Source, error) {
		return New(p, cfg.Timezone)
	})
}

// Spec is the config block of a ga4 source.
type Spec struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// PropertyID is the GA4 property (digits).
	PropertyID string `yaml:"property_id"`
	// CredentialsFile is a service-account key file; empty uses Application
	// Default Credentials. The account needs Viewer on the property.
	CredentialsFile string `yaml:"credentials_file"`
	// CustomerDimension is the custom dimension carrying the customer
	// reference, e.g. customUser:customer_ref.
	CustomerDimension string `yaml:"customer_dimension"`
	// UsageEvents are the events that count as usage (never session_start
	// or first_visit alone).
	UsageEvents []string `yaml:"usage_events"`
	// PurchaseEvent is the purchase event (default purchase; "none" skips orders).
	PurchaseEvent string `yaml:"purchase_event"`
	// StartDate is the first day pulled (YYYY-MM-DD).
	StartDate string `yaml:"start_date"`
	// MinDailyTokens stops the pull when fewer tokens than this are left in
	// the property's daily quota (default 2000).
	MinDailyTokens int64 `yaml:"min_daily_tokens"`
	// LookbackDays is how many days before the watermark a run pulls again
	// (default 3: GA4 data settles within 72 hours).
	LookbackDays *int `yaml:"lookback_days"`
	// Endpoint overrides the API address (tests).
	Endpoint string `yaml:"endpoint"`
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
}

var (
	propertyRE  = regexp.MustCompile(`^[0-9]{1,20}$`)
	dimensionRE = regexp.MustCompile(`^custom(User|Event):[A-Za-z_][A-Za-z0-9_]*$`)
)

// New builds a ga4 source from its config block; timezone is the configured
// business time zone (compared with the property's).
func New(p config.Plugin, timezone string) (*Source, error) {
	spec := Spec{PurchaseEvent: "purchase", MinDailyTokens: 2000}
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
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Source{name: p.Name, spec: spec, timezone: timezone, start: start, lookback: lookback, backoff: backoff.Default, pageSize: 100_000}, nil
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
	opts := append([]option.ClientOption{option.WithScopes(ga.AnalyticsReadonlyScope)}, s.opts...)
	if s.spec.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(strings.TrimRight(s.spec.Endpoint, "/")+"/"), option.WithoutAuthentication())
	} else if s.spec.CredentialsFile != "" {
		opts = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, config.ExpandPath(s.spec.CredentialsFile)))
	}
	svc, err := ga.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("ga4 client: %w", err)
	}
	return svc, nil
}

// Extract pulls the run's window of usage events per customer, and
// purchases: from the watermark minus lookback_days (start_date the first
// time) to yesterday, or the run's --from/--to. Days pulled again replace
// their earlier rows.
func (s *Source) Extract(ctx context.Context, conn *sql.Conn, run connectors.Run) (connectors.Extracted, error) {
	out := connectors.Extracted{Relations: map[string][]string{}, RowsIn: map[string]int64{}, RowsRead: map[string]int64{}, Rejected: map[string]int64{}}
	from, end, ok := run.WindowFor(s.name, s.start, s.lookback)
	if !ok {
		return out, nil
	}
	run.Logger.Info("ga4 window", "source", s.name, "from", from.Format("2006-01-02"), "to", end.Format("2006-01-02"))
	svc, err := s.service(ctx)
	if err != nil {
		return out, err
	}
	activity := "ga4_" + warehouse.SafeName(s.name) + "_activity"
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s (day DATE, customer_ref VARCHAR, event VARCHAR, count BIGINT, users BIGINT, source VARCHAR)`, activity)); err != nil {
		return out, err
	}
	req := &ga.RunReportRequest{
		DateRanges: []*ga.DateRange{{StartDate: from.Format("2006-01-02"), EndDate: end.Format("2006-01-02")}},
		Dimensions: []*ga.Dimension{{Name: "date"}, {Name: "eventName"}, {Name: s.spec.CustomerDimension}},
		Metrics:    []*ga.Metric{{Name: "eventCount"}, {Name: "activeUsers"}},
		DimensionFilter: &ga.FilterExpression{Filter: &ga.Filter{FieldName: "eventName",
			InListFilter: &ga.InListFilter{Values: s.spec.UsageEvents, CaseSensitive: true}}},
		ReturnPropertyQuota: true,
	}
	stats := &reportStats{}
	err = s.report(ctx, conn, svc, req, activity, stats, func(r *ga.Row) ([]driver.Value, bool, error) {
		day, err := time.Parse("20060102", r.DimensionValues[0].Value)
		if err != nil {
			return nil, false, fmt.Errorf("date %q: %w", r.DimensionValues[0].Value, err)
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
		return out, err
	}
	out.Relations["raw_customer_activity"] = []string{activity}
	out.Windows = append(out.Windows, connectors.Window{Table: "raw_customer_activity", Source: s.tag(), From: from, To: end, Legacy: legacyTag})
	out.RowsIn["raw_customer_activity"] = stats.rows
	out.RowsRead["raw_customer_activity"] = stats.rows
	out.Warnings = append(out.Warnings, stats.warnings(s, "usage events")...)
	quality := stats.quality(s, run, "usage events", from, end)

	if s.spec.PurchaseEvent != "none" {
		orders := "ga4_" + warehouse.SafeName(s.name) + "_orders"
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s (order_id VARCHAR, customer_ref VARCHAR, user_id VARCHAR, day DATE, channel VARCHAR, revenue DOUBLE, source VARCHAR)`, orders)); err != nil {
			return out, err
		}
		preq := &ga.RunReportRequest{
			DateRanges: req.DateRanges,
			Dimensions: []*ga.Dimension{{Name: "date"}, {Name: "transactionId"}, {Name: s.spec.CustomerDimension}},
			Metrics:    []*ga.Metric{{Name: "purchaseRevenue"}},
			DimensionFilter: &ga.FilterExpression{Filter: &ga.Filter{FieldName: "eventName",
				StringFilter: &ga.StringFilter{MatchType: "EXACT", Value: s.spec.PurchaseEvent, CaseSensitive: true}}},
			ReturnPropertyQuota: true,
		}
		pstats := &reportStats{}
		err = s.report(ctx, conn, svc, preq, orders, pstats, func(r *ga.Row) ([]driver.Value, bool, error) {
			day, err := time.Parse("20060102", r.DimensionValues[0].Value)
			if err != nil {
				return nil, false, err
			}
			id, customer := r.DimensionValues[1].Value, r.DimensionValues[2].Value
			if id == "(not set)" || id == "" {
				pstats.notSet++
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
			return out, err
		}
		out.Relations["raw_orders"] = []string{orders}
		out.Windows = append(out.Windows, connectors.Window{Table: "raw_orders", Source: s.tag(), From: from, To: end, Legacy: legacyTag})
		out.RowsIn["raw_orders"] = pstats.rows
		out.RowsRead["raw_orders"] = pstats.rows
		out.Warnings = append(out.Warnings, pstats.warnings(s, "purchases")...)
		quality = append(quality, pstats.quality(s, run, "purchases", from, end)...)
	}
	// What GA4 said of its numbers, per day: raw_source_quality.
	qt := "ga4_" + warehouse.SafeName(s.name) + "_quality"
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s (day DATE, source_name VARCHAR, report VARCHAR,
		subject_to_thresholding BOOLEAN, data_loss_from_other_row BOOLEAN, other_row_count BIGINT, sampled BOOLEAN,
		samples_read BIGINT, sampling_space BIGINT, property_time_zone VARCHAR, run_id VARCHAR, source VARCHAR)`, qt)); err != nil {
		return out, err
	}
	if err := warehouse.AppendTemp(conn, qt, quality); err != nil {
		return out, err
	}
	out.Relations["raw_source_quality"] = []string{qt}
	out.Windows = append(out.Windows, connectors.Window{Table: "raw_source_quality", Source: s.tag(), From: from, To: end, Legacy: legacyTag})
	return out, nil
}

// reportStats collects what a report said beyond its rows.
type reportStats struct {
	rows, notSet, other        int64
	thresholded, dataLoss      bool
	samplesRead, samplingSpace int64 // summed over pages; 0: not sampled
	timeZone                   string
	tokensLeft, consumed       int64
}

// quality is the report's row of raw_source_quality for each day of the window.
func (st *reportStats) quality(s *Source, run connectors.Run, report string, from, to time.Time) [][]driver.Value {
	var rows [][]driver.Value
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		rows = append(rows, []driver.Value{d, s.name, report, st.thresholded, st.dataLoss, st.other,
			st.samplingSpace > 0, st.samplesRead, st.samplingSpace, st.timeZone, run.ID, s.tag()})
	}
	return rows
}

func (st *reportStats) warnings(s *Source, what string) []string {
	var w []string
	if st.other > 0 {
		w = append(w, fmt.Sprintf("ga4 %s: %d %s fell into GA4's \"(other)\" row (too many distinct values): they are left out", s.name, st.other, what))
	}
	if st.thresholded {
		w = append(w, fmt.Sprintf("ga4 %s: GA4 thresholded the %s report (Google signals): small counts may be missing", s.name, what))
	}
	if st.samplingSpace > 0 {
		w = append(w, fmt.Sprintf("ga4 %s: GA4 sampled the %s report: %d of %d events read (%.1f %%); counts are estimates",
			s.name, what, st.samplesRead, st.samplingSpace, 100*float64(st.samplesRead)/float64(st.samplingSpace)))
	}
	if st.notSet > 0 {
		w = append(w, fmt.Sprintf("ga4 %s: %d %s had no %s: they are left out", s.name, st.notSet, what, s.spec.CustomerDimension))
	}
	if st.timeZone != "" && s.timezone != "" && st.timeZone != s.timezone {
		w = append(w, fmt.Sprintf("ga4 %s: the property counts days in %s, the config in %s: GA4 days are the property's", s.name, st.timeZone, s.timezone))
	}
	return w
}

// report reads every page of a report and appends the rows convert keeps
// to table.
func (s *Source) report(ctx context.Context, conn *sql.Conn, svc *ga.Service, req *ga.RunReportRequest, table string, st *reportStats,
	convert func(*ga.Row) ([]driver.Value, bool, error)) error {
	req.Limit = s.pageSize
	for offset := int64(0); ; {
		req.Offset = offset
		var resp *ga.RunReportResponse
		err := s.backoff.Do(ctx, "ga4 runReport", retryable, func() (err error) {
			resp, err = svc.Properties.RunReport("properties/"+s.spec.PropertyID, req).Context(ctx).Do()
			return err
		})
		if err != nil {
			return s.explain(err)
		}
		if md := resp.Metadata; md != nil {
			st.thresholded = st.thresholded || md.SubjectToThresholding
			st.dataLoss = st.dataLoss || md.DataLossFromOtherRow
			st.timeZone = md.TimeZone
			if offset == 0 { // the same report on every page: count its sampling once
				for _, sm := range md.SamplingMetadatas {
					st.samplesRead += sm.SamplesReadCount
					st.samplingSpace += sm.SamplingSpaceSize
				}
			}
		}
		var values [][]driver.Value
		for _, r := range resp.Rows {
			if isOther(r) {
				if n, err := strconv.ParseInt(r.MetricValues[0].Value, 10, 64); err == nil {
					st.other += n
				} else {
					st.other++
				}
				continue
			}
			v, keep, err := convert(r)
			if err != nil {
				return fmt.Errorf("ga4 %s: row %v: %w", s.name, r.DimensionValues, err)
			}
			if keep {
				values = append(values, v)
			}
		}
		if err := warehouse.AppendTemp(conn, table, values); err != nil {
			return err
		}
		st.rows += int64(len(values))
		offset += int64(len(resp.Rows))
		if q := resp.PropertyQuota; q != nil && q.TokensPerDay != nil {
			st.tokensLeft = q.TokensPerDay.Remaining
			if offset < resp.RowCount && q.TokensPerDay.Remaining < s.spec.MinDailyTokens {
				return fmt.Errorf("ga4 %s: property %s has %d tokens left today (below min_daily_tokens = %d): stopping before the daily quota is gone; nothing is published, the next run (after the quota resets at midnight Pacific time) pulls the rest",
					s.name, s.spec.PropertyID, q.TokensPerDay.Remaining, s.spec.MinDailyTokens)
			}
		}
		if len(resp.Rows) == 0 || offset >= resp.RowCount {
			return nil
		}
	}
}

func isOther(r *ga.Row) bool {
	for _, d := range r.DimensionValues {
		if d.Value == "(other)" {
			return true
		}
	}
	return false
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
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		switch {
		case gerr.Code == http.StatusTooManyRequests:
			return fmt.Errorf("ga4 %s: %w\n  The GA4 Data API quota of property %s is used up; the run can be retried once it resets", s.name, err, s.spec.PropertyID)
		case gerr.Code == http.StatusForbidden:
			return fmt.Errorf("ga4 %s: %w\n  Add the service account as a Viewer of GA4 property %s (Admin > Property access management)", s.name, err, s.spec.PropertyID)
		}
	}
	return fmt.Errorf("ga4 %s: %w", s.name, err)
}
