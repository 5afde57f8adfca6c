package etl

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/uptake-dev/uptake/config"
)

// ReconcileDay compares one day of GA4 as the Data API counted it
// (raw_customer_activity, sources ga4_api:<name>) with the export's events
// (raw_activity, sources ga4_bigquery and ga4_export) for the events both hold.
type ReconcileDay struct {
	Day                     time.Time
	APIEvents, ExportEvents int64
	APIUsers, ExportUsers   int64
	EventsDiff, UsersDiff   float64 // |api − export| / the larger of the two (0 when both are 0)
	OverThreshold           bool
}

// Reconcile compares, day by day from from to to, the daily event counts
// and active users the warehouse holds from the GA4 Data API and from the
// GA4 export. The API counts events with a customer only, so the export's
// events without one are left out too. Active users: the API's per customer
// and day (the largest of its events' counts), summed over customers; the
// export's distinct users (user_id, else the pseudo id). The API's figure is
// a lower bound when a user triggers several events: compare trends, not
// single units.
func Reconcile(ctx context.Context, cfg *config.Config, from, to time.Time, thresholdPct float64) ([]ReconcileDay, error) {
	db, err := openReadOnly(cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var api, apiSources, bqExport, fileExport int64
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM raw_customer_activity WHERE source LIKE 'ga4_api%' AND day BETWEEN $1 AND $2),
		(SELECT count(DISTINCT source) FROM raw_customer_activity WHERE source LIKE 'ga4_api%' AND day BETWEEN $1 AND $2),
		(SELECT count(*) FROM raw_activity WHERE source = 'ga4_bigquery' AND day BETWEEN $1 AND $2),
		(SELECT count(*) FROM raw_activity WHERE source = 'ga4_export' AND day BETWEEN $1 AND $2)`, from, to).Scan(&api, &apiSources, &bqExport, &fileExport); err != nil {
		return nil, fmt.Errorf("read the warehouse: %w", err)
	}
	if apiSources > 1 {
		return nil, fmt.Errorf("the warehouse holds %d GA4 Data API sources from %s to %s: reconcile compares one property with its export; configure one", apiSources,
			from.Format("2006-01-02"), to.Format("2006-01-02"))
	}
	if bqExport > 0 && fileExport > 0 {
		return nil, fmt.Errorf("the warehouse holds the GA4 export twice from %s to %s (ga4_bigquery and ga4_export_file sources): reconcile compares the Data API with one export; configure one",
			from.Format("2006-01-02"), to.Format("2006-01-02"))
	}
	export := bqExport + fileExport
	if api == 0 || export == 0 {
		return nil, fmt.Errorf("nothing to compare from %s to %s: the warehouse has %d rows from the GA4 Data API (kind ga4) and %d from the GA4 export (ga4_bigquery, ga4_export_file); "+
			"configure both for the same property and run uptake (with --from/--to for older days)", from.Format("2006-01-02"), to.Format("2006-01-02"), api, export)
	}
	rows, err := db.QueryContext(ctx, `WITH api AS (
			SELECT day, customer_ref, event, count, users FROM raw_customer_activity
			WHERE source LIKE 'ga4_api%' AND day BETWEEN $1 AND $2
		), exp AS (
			SELECT day, customer_ref, user_id, event, count FROM raw_activity
			WHERE source IN ('ga4_bigquery', 'ga4_export') AND customer_ref IS NOT NULL AND day BETWEEN $1 AND $2
		), events AS (
			SELECT DISTINCT event FROM api INTERSECT SELECT DISTINCT event FROM exp
		), a AS (
			SELECT day, sum(count) AS events FROM api SEMI JOIN events USING (event) GROUP BY day
		), au AS (
			SELECT day, sum(u) AS users FROM (
				SELECT day, customer_ref, max(users) AS u FROM api SEMI JOIN events USING (event) GROUP BY day, customer_ref)
			GROUP BY day
		), e AS (
			SELECT day, sum(count) AS events, count(DISTINCT user_id) AS users FROM exp SEMI JOIN events USING (event) GROUP BY day
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

func relDiff(a, b int64) float64 {
	hi := max(a, b)
	if hi == 0 {
		return 0
	}
	return math.Abs(float64(a-b)) / float64(hi)
}
