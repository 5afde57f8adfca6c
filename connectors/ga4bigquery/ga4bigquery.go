// Package ga4bigquery is the source for the GA4 export in BigQuery
// (events_YYYYMMDD and events_intraday_YYYYMMDD tables): one GoogleSQL query
// aggregates the raw events into daily rows per user, customer and event
// inside BigQuery, so that only those rollups come down. The customer
// reference comes from a user property; the user is user_id when set, else
// 'ga4:' || user_pseudo_id; days are recomputed from event_timestamp in the
// configured time zone; a day's events_ table wins over its intraday table.
// The query takes parameters only: table and column names come from
// validated config. A dry run first says how many bytes it scans, and
// max_bytes_billed caps it.
package ga4bigquery

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	bq "cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltext"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/googleauth"
)

func init() {
	connectors.RegisterSource("ga4_bigquery", func(p config.Plugin, cfg *config.Config) (connectors.Source, error) {
		return New(p, cfg.Timezone)
	})
}

// Spec is the config block of a ga4_bigquery source.
type Spec struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// Project is the Google Cloud project that holds the export dataset.
	// Required.
	Project string `yaml:"project"`
	// BillingProject is the project that runs (and pays for) the query
	// (default: `project`).
	BillingProject string `yaml:"billing_project"`
	// Dataset is the export's dataset, `analytics_<property id>`. Required.
	Dataset string `yaml:"dataset"`
	// Location is the dataset's location, such as `EU` or `US`. Required.
	Location string `yaml:"location"`
	// CustomerProperty is the user property carrying the customer
	// reference. Required.
	CustomerProperty string `yaml:"customer_property"`
	// UsageEvents are the events that count as usage. Required.
	UsageEvents []string `yaml:"usage_events"`
	// StartDate is the first day pulled, as YYYY-MM-DD; a run pulls up to
	// yesterday. Required.
	StartDate string `yaml:"start_date"`
	// LookbackDays is how many days before the watermark a run pulls again,
	// from 0 to 60 (default 3).
	LookbackDays *int `yaml:"lookback_days"`
	// MaxBytesBilled caps the bytes the query may scan: a dry run first
	// tells the bytes it would scan, and above this the run fails before
	// running it (default, or 0: no cap).
	MaxBytesBilled int64 `yaml:"max_bytes_billed"`
	// CredentialsFile is a service-account key file; the account needs
	// BigQuery Data Viewer on the dataset and BigQuery Job User on the
	// billing project (default: Application Default Credentials).
	CredentialsFile string `yaml:"credentials_file"`
	// Endpoint is another address of the BigQuery API, reached without
	// credentials, such as `http://localhost:9050` for the BigQuery
	// emulator: a base URL with its scheme, `http://host:port` or
	// `https://host`, without the API's path, which uptake adds
	// (`/bigquery/v2/`; a trailing slash is dropped first). Default:
	// `http://` followed by the `BIGQUERY_EMULATOR_HOST` environment
	// variable (`host:port`) when that is set, else Google's.
	Endpoint string `yaml:"endpoint"`
	// Use is `kpi` (the default: the rows feed the KPIs) or `reconcile`:
	// pulled for `uptake reconcile` only, into `raw_reconcile_activity`, which
	// no KPI reads.
	Use string `yaml:"use"`
}

// sourceTag marks this source's rows in raw_activity.
const sourceTag = "ga4_bigquery"

// Source is a configured ga4_bigquery source.
type Source struct {
	name     string
	spec     Spec
	timezone string
	start    time.Time
	lookback int
	opts     []option.ClientOption // tests point the client at a fake
	pageSize int                   // rows per page of results
	kpi      bool                  // false: use: reconcile
}

var (
	projectRE = regexp.MustCompile(`^[a-z][a-z0-9.:-]{4,61}[a-z0-9]$|^[a-z][a-z0-9-]{0,29}$`)
	// Up to 1,024 characters (BigQuery's limit), checked apart: a regexp
	// counting them took 9 ms of every start of uptake to compile.
	datasetRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	keyRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,39}$`)
)

// maxDatasetID is the longest dataset id BigQuery accepts.
const maxDatasetID = 1024

// DefaultSpec is the config block of a ga4_bigquery source before its keys are read:
// the defaults of the keys a config leaves out (the configuration
// reference shows them).
func DefaultSpec() Spec { return Spec{} }

// New builds a ga4_bigquery source; timezone defines the business day.
func New(p config.Plugin, timezone string) (*Source, error) {
	spec := DefaultSpec()
	if err := config.DecodeStrict(p.File, p.Node, &spec); err != nil {
		return nil, err
	}
	var errs []error
	if !projectRE.MatchString(spec.Project) {
		errs = append(errs, p.PluginErrorf("project", "project must be a Google Cloud project id, not %q", spec.Project))
	}
	if spec.BillingProject == "" {
		spec.BillingProject = spec.Project
	}
	if !datasetRE.MatchString(spec.Dataset) || len(spec.Dataset) > maxDatasetID {
		errs = append(errs, p.PluginErrorf("dataset", "dataset must be letters, digits and underscores, up to 1,024 of them (analytics_123456789), not %q", spec.Dataset))
	}
	if spec.Location == "" {
		errs = append(errs, p.PluginErrorf("location", "location is required (the dataset's: EU, US, ...)"))
	}
	if !keyRE.MatchString(spec.CustomerProperty) {
		errs = append(errs, p.PluginErrorf("customer_property", "customer_property must be a user property name, not %q", spec.CustomerProperty))
	}
	if len(spec.UsageEvents) == 0 {
		errs = append(errs, p.PluginErrorf("usage_events", "usage_events is required: the events that count as usage"))
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
	return &Source{name: p.Name, spec: spec, timezone: timezone, start: start, lookback: lookback, pageSize: 50_000, kpi: kpi}, nil
}

// GA4Use says which property the export belongs to (its dataset
// analytics_<property id>) and whether it feeds the KPIs
// (connectors.CheckGA4Properties).
func (s *Source) GA4Use() connectors.GA4Use {
	return connectors.GA4Use{Property: connectors.PropertyOfDataset(s.spec.Dataset), Key: "dataset", KPI: s.kpi}
}

// query is the pushdown: daily rows per user, customer and event. Only the
// dataset reference is spliced in (validated identifiers); everything else
// is a parameter.
func (s *Source) query() string {
	table := fmt.Sprintf("`%s.%s.events_*`", s.spec.Project, s.spec.Dataset)
	return `WITH events AS (
  SELECT _TABLE_SUFFIX AS suffix, event_timestamp, event_name, user_id, user_pseudo_id,
    (SELECT up.value.string_value FROM UNNEST(user_properties) AS up WHERE up.key = @customer_property) AS customer_ref
  FROM ` + table + `
  WHERE _TABLE_SUFFIX BETWEEN @from_suffix AND @to_suffix
     OR _TABLE_SUFFIX BETWEEN CONCAT('intraday_', @from_suffix) AND CONCAT('intraday_', @to_suffix)
),
daily_tables AS (
  SELECT DISTINCT suffix FROM events WHERE SUBSTR(suffix, 1, 9) != 'intraday_'
)
SELECT
  DATE(TIMESTAMP_MICROS(event_timestamp), @timezone) AS day,
  COALESCE(user_id, CONCAT('ga4:', user_pseudo_id)) AS user_id,
  customer_ref,
  event_name AS event,
  COUNT(*) AS count
FROM events
WHERE event_name IN UNNEST(@usage_events)
  AND (SUBSTR(suffix, 1, 9) != 'intraday_' OR SUBSTR(suffix, 10) NOT IN (SELECT suffix FROM daily_tables))
GROUP BY day, user_id, customer_ref, event
HAVING day BETWEEN @from AND @to
ORDER BY day, user_id, event`
}

func (s *Source) client(ctx context.Context) (*bq.Client, error) {
	auth, err := googleauth.ClientOptions(ctx, googleauth.Settings{Service: "ga4_bigquery", Scopes: []string{bq.Scope}, CredentialsFile: config.ExpandPath(s.spec.CredentialsFile),
		Endpoint: googleauth.BigQueryEndpoint(s.spec.Endpoint), APIPath: "bigquery/v2/"}, s.opts...)
	if err != nil {
		return nil, err
	}
	c, err := bq.NewClient(ctx, s.spec.BillingProject, auth...)
	if err != nil {
		return nil, fmt.Errorf("bigquery client: %w", err)
	}
	c.Location = s.spec.Location
	return c, nil
}

// Extract runs the pushdown query over the run's window into raw_activity
// (raw_reconcile_activity for a source with use: reconcile).
func (s *Source) Extract(ctx context.Context, conn *sql.Conn, run connectors.Run) (connectors.Extracted, error) {
	out := connectors.Extracted{Relations: map[string][]string{}, RowsIn: map[string]int64{}, RowsRead: map[string]int64{}, Rejected: map[string]int64{}}
	from, to, ok := run.WindowFor(s.name, s.start, s.lookback)
	if !ok {
		return out, nil
	}
	c, err := s.client(ctx)
	if err != nil {
		return out, err
	}
	defer c.Close()
	q := c.Query(s.query())
	q.Location = s.spec.Location
	q.Parameters = []bq.QueryParameter{
		{Name: "customer_property", Value: s.spec.CustomerProperty},
		// the export's tables are dated in the property's zone: read a day more on each side
		{Name: "from_suffix", Value: from.AddDate(0, 0, -1).Format("20060102")},
		{Name: "to_suffix", Value: to.AddDate(0, 0, 1).Format("20060102")},
		{Name: "timezone", Value: s.timezone},
		{Name: "usage_events", Value: s.spec.UsageEvents},
		{Name: "from", Value: civil.DateOf(from)},
		{Name: "to", Value: civil.DateOf(to)},
	}
	q.MaxBytesBilled = s.spec.MaxBytesBilled
	// Dry run: what the query would scan.
	q.DryRun = true
	dry, err := q.Run(ctx)
	if err != nil {
		return out, s.explain(fmt.Errorf("ga4_bigquery %s: dry run: %w", s.name, err))
	}
	if st := dry.LastStatus(); st != nil && st.Statistics != nil {
		bytes := st.Statistics.TotalBytesProcessed
		run.Logger.Info("ga4_bigquery dry run", "source", s.name, "bytes", bytes, "from", from.Format("2006-01-02"), "to", to.Format("2006-01-02"))
		if s.spec.MaxBytesBilled > 0 && bytes > s.spec.MaxBytesBilled {
			return out, fmt.Errorf("ga4_bigquery %s: the query would scan %d bytes, above max_bytes_billed = %d: narrow the window (--from/--to) or raise the cap", s.name, bytes, s.spec.MaxBytesBilled)
		}
	}
	q.DryRun = false
	it, err := q.Read(ctx)
	if err != nil {
		return out, s.explain(fmt.Errorf("ga4_bigquery %s: %w", s.name, err))
	}
	it.PageInfo().MaxSize = s.pageSize
	table := "ga4bq_" + sqltext.SafeName(s.name)
	ddl, err := uptakesql.TempTable("raw_activity", table)
	if err != nil {
		return out, err
	}
	if _, err := conn.ExecContext(ctx, ddl); err != nil {
		return out, err
	}
	var rows [][]driver.Value
	for {
		var r struct {
			Day         civil.Date    `bigquery:"day"`
			UserID      bq.NullString `bigquery:"user_id"`
			CustomerRef bq.NullString `bigquery:"customer_ref"`
			Event       string        `bigquery:"event"`
			Count       int64         `bigquery:"count"`
		}
		err := it.Next(&r)
		if err == iterator.Done {
			break
		}
		if err != nil {
			return out, fmt.Errorf("ga4_bigquery %s: read rows: %w", s.name, err)
		}
		var cust any
		if r.CustomerRef.Valid {
			cust = r.CustomerRef.StringVal
		}
		rows = append(rows, []driver.Value{r.Day.In(time.UTC), cust, r.UserID.StringVal, r.Event, r.Count, sourceTag})
	}
	if err := run.Rows.Append(ctx, table, rows); err != nil {
		return out, err
	}
	raw := connectors.GA4Table("raw_activity", s.kpi)
	out.Relations[raw] = []string{table}
	out.RowsIn[raw] = int64(len(rows))
	out.RowsRead[raw] = int64(len(rows))
	out.Windows = append(out.Windows, connectors.Window{Table: raw, Source: sourceTag, From: from, To: to})
	missing, err := s.missingDays(ctx, c, from, to)
	switch {
	case err != nil:
		out.Warnings = append(out.Warnings, fmt.Sprintf("ga4_bigquery %s: could not list the export's tables to check for missing days: %v", s.name, err))
	case len(missing) > 0:
		out.Warnings = append(out.Warnings, fmt.Sprintf("ga4_bigquery %s: no export table for %s (neither events_YYYYMMDD nor events_intraday_YYYYMMDD): "+
			"GA4 has not exported that day yet, or the property passed its daily export limit (1 million events a day for standard properties)",
			s.name, strings.Join(missing, ", ")))
	}
	return out, nil
}

// missingDays lists the days from..to that have neither a daily nor an
// intraday table in the export dataset.
func (s *Source) missingDays(ctx context.Context, c *bq.Client, from, to time.Time) ([]string, error) {
	have := map[string]bool{}
	it := c.DatasetInProject(s.spec.Project, s.spec.Dataset).Tables(ctx)
	for {
		t, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, err
		}
		if day, ok := strings.CutPrefix(t.TableID, "events_intraday_"); ok {
			have[day] = true
		} else if day, ok := strings.CutPrefix(t.TableID, "events_"); ok {
			have[day] = true
		}
	}
	var missing []string
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		if !have[d.Format("20060102")] {
			missing = append(missing, d.Format("2006-01-02"))
		}
	}
	return missing, nil
}

// explain says what to do about refused credentials, missing permissions
// and a missing export.
func (s *Source) explain(err error) error {
	var gerr *googleapi.Error
	switch {
	case googleauth.Unauthorized(err):
		return googleauth.Explain(err)
	case errors.As(err, &gerr) && gerr.Code == http.StatusForbidden:
		return fmt.Errorf("%w\n  The service account needs BigQuery Data Viewer (roles/bigquery.dataViewer) on dataset %s.%s and BigQuery Job User (roles/bigquery.jobUser) on project %s, which runs the query",
			err, s.spec.Project, s.spec.Dataset, s.spec.BillingProject)
	case errors.As(err, &gerr) && gerr.Code == http.StatusNotFound:
		return fmt.Errorf("%w\n  No dataset %s.%s in location %s, or no events_* table in it: check project, dataset (analytics_<property id>) and location, and that the GA4 BigQuery link exports daily tables",
			err, s.spec.Project, s.spec.Dataset, s.spec.Location)
	}
	return err
}
