// Package ga4file reads the GA4 BigQuery export from local files: events as
// newline-delimited JSON (optionally gzipped), one object per event with
// the export's fields (event_timestamp, event_name, user_id,
// user_pseudo_id, user_properties). It aggregates them like the
// ga4_bigquery pushdown does (daily rows per user, customer and event, days
// in the configured zone) into raw_activity with source 'ga4_export', so the
// GA4 path can be tried without a Google account.
package ga4file

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

func init() {
	connectors.RegisterSource("ga4_export_file", func(p config.Plugin, cfg *config.Config) (connectors.Source, error) {
		return New(p, cfg.Timezone)
	})
}

// Spec is the config block of a ga4_export_file source.
type Spec struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// Path is a glob of the export's files: newline-delimited JSON, `.jsonl`
	// or `.jsonl.gz`, one event a line, as `bq extract
	// --destination_format NEWLINE_DELIMITED_JSON` writes them. Required.
	Path string `yaml:"path"`
	// CustomerProperty is the user property carrying the customer
	// reference. Required.
	CustomerProperty string `yaml:"customer_property"`
	// UsageEvents are the events that count as usage. Required.
	UsageEvents []string `yaml:"usage_events"`
	// LookbackDays is how many days before the watermark a run reads again,
	// from 0 to 60 (default 3).
	LookbackDays *int `yaml:"lookback_days"`
	// PropertyID is the number of the GA4 property the files were exported
	// from (optional: it lets uptake refuse this source beside another KPI
	// source of the same property).
	PropertyID string `yaml:"property_id"`
	// Use is `kpi` (the default: the rows feed the KPIs) or `reconcile`:
	// read for `uptake reconcile` only, into `raw_reconcile_activity`, which
	// no KPI reads.
	Use string `yaml:"use"`
}

// Source is a configured ga4_export_file source.
type Source struct {
	name, timezone string
	spec           Spec
	lookback       int
	kpi            bool // false: use: reconcile
}

// DefaultSpec is the config block of a ga4_export_file source before its keys are read:
// the defaults of the keys a config leaves out (the configuration
// reference shows them).
func DefaultSpec() Spec { return Spec{} }

// New builds the source; timezone defines the business day.
func New(p config.Plugin, timezone string) (*Source, error) {
	spec := DefaultSpec()
	if err := config.DecodeStrict(p.File, p.Node, &spec); err != nil {
		return nil, err
	}
	var errs []error
	if spec.Path == "" {
		errs = append(errs, p.PluginErrorf("path", "path is required (a glob of .jsonl or .jsonl.gz files)"))
	}
	if spec.CustomerProperty == "" {
		errs = append(errs, p.PluginErrorf("customer_property", "customer_property is required"))
	}
	if len(spec.UsageEvents) == 0 {
		errs = append(errs, p.PluginErrorf("usage_events", "usage_events is required"))
	}
	lookback, err := connectors.LookbackDays(p, spec.LookbackDays)
	if err != nil {
		errs = append(errs, err)
	}
	if spec.PropertyID != "" && strings.Trim(spec.PropertyID, "0123456789") != "" {
		errs = append(errs, p.PluginErrorf("property_id", "property_id must be the GA4 property's number, not %q", spec.PropertyID))
	}
	kpi, err := connectors.ParseGA4Use(p, spec.Use)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Source{name: p.Name, timezone: timezone, spec: spec, lookback: lookback, kpi: kpi}, nil
}

// GA4Use says which property the files come from (when property_id says)
// and whether they feed the KPIs (connectors.CheckGA4Properties).
func (s *Source) GA4Use() connectors.GA4Use {
	return connectors.GA4Use{Property: s.spec.PropertyID, Key: "property_id", KPI: s.kpi}
}

// Extract reads every file of the glob and aggregates its events.
func (s *Source) Extract(ctx context.Context, conn *sql.Conn, run connectors.Run) (connectors.Extracted, error) {
	out := connectors.Extracted{Relations: map[string][]string{}, RowsIn: map[string]int64{}, RowsRead: map[string]int64{}, Rejected: map[string]int64{}}
	files, err := filepath.Glob(s.spec.Path)
	if err != nil || len(files) == 0 {
		return out, fmt.Errorf("%s: no file matches path %q", s.name, s.spec.Path)
	}
	tz := s.timezone
	if tz == "" {
		tz = "UTC"
	}
	var events []string
	for _, e := range s.spec.UsageEvents {
		events = append(events, sqltext.Quote(e))
	}
	// Incremental like the other GA4 sources: the days from the watermark
	// minus the lookback on are read again, earlier days are kept.
	from, to, _ := run.WindowFor(s.name, time.Time{}, s.lookback)
	table := "ga4file_" + sqltext.SafeName(s.name)
	q := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %[1]s AS
		WITH events AS (
			SELECT
				timezone(%[2]s, to_timestamp(event_timestamp // 1000000))::DATE AS day,
				coalesce(user_id, 'ga4:' || user_pseudo_id) AS user_id,
				list_filter(user_properties, p -> p.key = %[3]s)[1].value.string_value AS customer_ref,
				event_name AS event
			FROM read_json(%[4]s, format = 'newline_delimited', columns = {
				'event_timestamp': 'BIGINT', 'event_name': 'VARCHAR', 'user_id': 'VARCHAR', 'user_pseudo_id': 'VARCHAR',
				'user_properties': 'STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR))[]'})
			WHERE event_name IN (%[5]s)
		)
		SELECT day, customer_ref, user_id, event, count(*)::BIGINT AS count, 'ga4_export' AS source
		FROM events
		WHERE day BETWEEN %[6]s AND %[7]s
		GROUP BY ALL`,
		table, sqltext.Quote(tz), sqltext.Quote(s.spec.CustomerProperty), list(files), strings.Join(events, ", "),
		"DATE "+sqltext.Quote(from.Format("2006-01-02")), "DATE "+sqltext.Quote(to.Format("2006-01-02")))
	out.FilesRead += len(files) // read at each run: their days are windowed, not kept per file
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return out, fmt.Errorf("%s: read %s: %w", s.name, s.spec.Path, err)
	}
	n, err := sqltext.Count(ctx, conn, table)
	if err != nil {
		return out, err
	}
	raw := connectors.GA4Table("raw_activity", s.kpi)
	out.Relations[raw] = []string{table}
	out.Windows = append(out.Windows, connectors.Window{Table: raw, Source: "ga4_export", From: from, To: to})
	out.RowsIn[raw] = n
	out.RowsRead[raw] = n
	return out, nil
}

func list(files []string) string {
	q := make([]string, len(files))
	for i, f := range files {
		q[i] = sqltext.Quote(f)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
