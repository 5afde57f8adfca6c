package etl

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/uptake-dev/uptake/config"
)

// ReconcileDay compares one day of GA4 as the Data API counted it (sources
// ga4_api:<name>) with the export's events (sources ga4_bigquery and
// ga4_export), for the events both hold. Either side may be a KPI source or
// one pulled for reconcile only (use: reconcile, the raw_reconcile_ tables).
type ReconcileDay struct {
	Day                     time.Time
	APIEvents, ExportEvents int64
	APIUsers, ExportUsers   int64
	EventsDiff, UsersDiff   float64 // |api − export| / the larger of the two (0 when both are 0)
	OverThreshold           bool
	// Cause is the likely cause of a day over the threshold, when uptake
	// knows one (the property's time zone differs from timezone), else "".
	Cause string
}

// The relations reconcile reads: each side's KPI table and its
// raw_reconcile_ twin.
const (
	reconcileAPIEvents = `(SELECT day, customer_ref, event, count, source FROM raw_customer_activity
		UNION ALL SELECT day, customer_ref, event, count, source FROM raw_reconcile_customer_activity)`
	reconcileAPIUsers = `(SELECT day, period, customer_ref, active_users, source FROM raw_active_users
		UNION ALL SELECT day, period, customer_ref, active_users, source FROM raw_reconcile_active_users)`
	reconcileExport = `(SELECT day, customer_ref, user_id, event, count, source FROM raw_activity
		UNION ALL SELECT day, customer_ref, user_id, event, count, source FROM raw_reconcile_activity)`
)

// Reconcile compares, day by day from from to to, the daily event counts
// and active users the warehouse holds from the GA4 Data API and from the
// GA4 export. The API counts events with a customer only, so the export's
// events without one are left out too. Active users are like for like: the
// API's are GA4's own count of the day's users with a customer (excluded
// customers left out, the day report of raw_active_users), the export's
// the day's distinct users (user_id, else the pseudo id) with a customer,
// excluded customers left out too. When the property counts its days in
// another zone than timezone, the days over the threshold say so.
func Reconcile(ctx context.Context, cfg *config.Config, from, to time.Time, thresholdPct float64) ([]ReconcileDay, error) {
	db, err := openReadOnly(cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := checkReconcileInputs(ctx, db, from, to); err != nil {
		return nil, err
	}
	out, err := reconcileDays(ctx, db, cfg, from, to, thresholdPct)
	if err != nil {
		return nil, err
	}
	cause, err := timeZoneCause(ctx, db, cfg, from, to)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].OverThreshold {
			out[i].Cause = cause
		}
	}
	return out, nil
}

// checkReconcileInputs says why there is nothing to compare, or too much:
// one Data API source and one export are compared.
func checkReconcileInputs(ctx context.Context, db *sql.DB, from, to time.Time) error {
	var twins int
	if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT table_name) FROM information_schema.tables WHERE table_schema = 'main'
		AND table_name IN ('raw_active_users', 'raw_reconcile_activity', 'raw_reconcile_customer_activity', 'raw_reconcile_active_users')`).Scan(&twins); err != nil {
		return fmt.Errorf("read the warehouse: %w", err)
	}
	if twins < 4 {
		return fmt.Errorf("the warehouse was last built by an older uptake: run uptake once (with --from/--to for the days to compare) before uptake reconcile")
	}
	var api, apiSources, bqExport, fileExport int64
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM `+reconcileAPIEvents+` WHERE source LIKE 'ga4_api%' AND day BETWEEN $1 AND $2),
		(SELECT count(DISTINCT source) FROM `+reconcileAPIEvents+` WHERE source LIKE 'ga4_api%' AND day BETWEEN $1 AND $2),
		(SELECT count(*) FROM `+reconcileExport+` WHERE source = 'ga4_bigquery' AND day BETWEEN $1 AND $2),
		(SELECT count(*) FROM `+reconcileExport+` WHERE source = 'ga4_export' AND day BETWEEN $1 AND $2)`, from, to).Scan(&api, &apiSources, &bqExport, &fileExport); err != nil {
		return fmt.Errorf("read the warehouse: %w", err)
	}
	period := from.Format("2006-01-02") + " to " + to.Format("2006-01-02")
	switch {
	case apiSources > 1:
		return fmt.Errorf("the warehouse holds %d GA4 Data API sources from %s: reconcile compares one property with its export; configure one", apiSources, period)
	case bqExport > 0 && fileExport > 0:
		return fmt.Errorf("the warehouse holds the GA4 export twice from %s (ga4_bigquery and ga4_export_file sources): reconcile compares the Data API with one export; configure one", period)
	case api == 0 || bqExport+fileExport == 0:
		return fmt.Errorf("nothing to compare from %s: the warehouse has %d rows from the GA4 Data API (kind ga4) and %d from the GA4 export (ga4_bigquery, ga4_export_file); "+
			"configure both for the same property, one of them with use: reconcile, and run uptake (with --from/--to for older days)", period, api, bqExport+fileExport)
	}
	return nil
}

// reconcileDays compares the two sides day by day.
func reconcileDays(ctx context.Context, db *sql.DB, cfg *config.Config, from, to time.Time, thresholdPct float64) ([]ReconcileDay, error) {
	rows, err := db.QueryContext(ctx, `WITH api AS (
			SELECT day, customer_ref, event, count FROM `+reconcileAPIEvents+`
			WHERE source LIKE 'ga4_api%' AND day BETWEEN $1 AND $2
		), exp AS (
			SELECT day, customer_ref, user_id, event, count FROM `+reconcileExport+`
			WHERE source IN ('ga4_bigquery', 'ga4_export') AND customer_ref IS NOT NULL AND day BETWEEN $1 AND $2
		), events AS (
			SELECT DISTINCT event FROM api INTERSECT SELECT DISTINCT event FROM exp
		), a AS (
			SELECT day, sum(count) AS events FROM api SEMI JOIN events USING (event) GROUP BY day
		), au AS (
			-- GA4's own count of the day's users (with a customer, excluded ones left out)
			SELECT day, sum(active_users) AS users FROM `+reconcileAPIUsers+`
			WHERE source LIKE 'ga4_api%' AND period = 'day' AND customer_ref IS NULL AND day BETWEEN $1 AND $2
			GROUP BY day
		), e AS (
			SELECT day, sum(count) AS events,
				count(DISTINCT user_id) FILTER (WHERE NOT list_contains(`+list(cfg.Exclude.Customers)+`, customer_ref)) AS users
			FROM exp SEMI JOIN events USING (event) GROUP BY day
		), days AS (
			SELECT unnest(generate_series($1::DATE, $2::DATE, INTERVAL 1 DAY))::DATE AS day
		)
		SELECT d.day, coalesce(a.events, 0)::BIGINT, coalesce(e.events, 0)::BIGINT, coalesce(au.users, 0)::BIGINT, coalesce(e.users, 0)::BIGINT
		FROM days d LEFT JOIN a USING (day) LEFT JOIN au USING (day) LEFT JOIN e USING (day)
		ORDER BY d.day`, from, to)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	defer rows.Close()
	var out []ReconcileDay
	for rows.Next() {
		var r ReconcileDay
		if err := rows.Scan(&r.Day, &r.APIEvents, &r.ExportEvents, &r.APIUsers, &r.ExportUsers); err != nil {
			return nil, err
		}
		r.EventsDiff, r.UsersDiff = relDiff(r.APIEvents, r.ExportEvents), relDiff(r.APIUsers, r.ExportUsers)
		r.OverThreshold = 100*r.EventsDiff > thresholdPct || 100*r.UsersDiff > thresholdPct
		out = append(out, r)
	}
	return out, rows.Err()
}

// timeZoneCause names the property's time zone as the likely cause of the
// differences when the Data API said it differs from timezone: the API puts
// an event on the property's day, the export (its event_timestamp) on the
// configured zone's day.
func timeZoneCause(ctx context.Context, db *sql.DB, cfg *config.Config, from, to time.Time) (string, error) {
	tz := cfg.Timezone
	if tz == "" {
		tz = "UTC"
	}
	var zones sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT string_agg(DISTINCT property_time_zone, ', ' ORDER BY property_time_zone) FROM raw_source_quality
		WHERE source LIKE 'ga4_api%' AND day BETWEEN $1 AND $2 AND coalesce(property_time_zone, '') NOT IN ('', $3)`, from, to, tz).Scan(&zones); err != nil {
		return "", fmt.Errorf("read the property's time zone: %w", err)
	}
	if !zones.Valid {
		return "", nil
	}
	return fmt.Sprintf("the GA4 property counts its days in %s, uptake in %s (timezone): the Data API puts each event on the property's day, "+
		"the export on the day of its event_timestamp in %s, so events near midnight land on different days", zones.String, tz, tz), nil
}

func relDiff(a, b int64) float64 {
	hi := max(a, b)
	if hi == 0 {
		return 0
	}
	return math.Abs(float64(a-b)) / float64(hi)
}
