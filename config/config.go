// Package config loads and validates uptake's YAML configuration.
//
// A config file names the warehouse, the sources to pull, the destinations to
// publish to and the KPI thresholds. Unknown keys are errors that name the
// file and line; `${VAR}` in a value is replaced by the environment variable
// VAR (secrets stay out of the file). Connector-specific blocks are kept as
// YAML nodes and decoded by the connector itself with DecodeStrict.
package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Config is one uptake.yaml.
type Config struct {
	// File is the path the config was read from (for messages).
	File string `yaml:"-"`
	// Warehouse is the DuckDB file that keeps the raw tables, the models,
	// the history of runs and the rejected rows (a relative path is relative
	// to the folder uptake runs from; DuckDB's Go driver cannot open a path
	// holding `?`, `#`, `%` or a control character).
	Warehouse string `yaml:"warehouse"`
	// Timezone is the IANA time zone that defines the business day, such as
	// `Europe/Paris`.
	Timezone string `yaml:"timezone"`
	// DuckDB holds engine settings.
	DuckDB DuckDB `yaml:"duckdb"`
	// Sources are the systems data is pulled from: a list of blocks, each
	// with a `kind` (`csvexport`, `ga4`, `ga4_bigquery` or `ga4_export_file`,
	// whose keys are below) and an optional `name` (default: the kind; the
	// names of the sources must differ). Required: at least one source.
	Sources []Plugin `yaml:"sources"`
	// Destinations are where the KPI tables are published: a list of blocks,
	// each with a `kind` (`files`, `bigquery` or `sheets`, whose keys are
	// below) and an optional `name` (default: the kind; the names of the
	// destinations must differ). Required: at least one destination.
	Destinations []Plugin `yaml:"destinations"`
	// KPI holds the thresholds of the KPI definitions.
	KPI KPI `yaml:"kpi"`
	// Exclude lists internal and test accounts dropped at staging.
	Exclude Exclude `yaml:"exclude"`
	// Checks holds the run's safety limits.
	Checks Checks `yaml:"checks"`
	// LookerStudio describes the report `uptake looker-link` creates.
	LookerStudio LookerStudio `yaml:"looker_studio"`
	// Notify sends the outcome of runs to a chat webhook.
	Notify Notify `yaml:"notify"`
	// Jobs are the runs `uptake schedule` fires, each with the keys below
	// (default: one job named `nightly`, at `0 2 * * *`, every day at
	// 02:00).
	Jobs []Job `yaml:"jobs"`
	// Scheduler holds the settings of `uptake schedule`.
	Scheduler Scheduler `yaml:"scheduler"`

	root *yaml.Node
}

// DuckDB holds the embedded engine's settings.
type DuckDB struct {
	// MemoryLimit is the memory DuckDB may use, such as `2GB`; past it,
	// DuckDB spills to disk (default: DuckDB's, 80 % of the RAM).
	MemoryLimit string `yaml:"memory_limit"`
	// Threads is the number of threads DuckDB runs (default, or 0: one per
	// core).
	Threads int `yaml:"threads"`
	// TempDirectory is the folder DuckDB spills to when memory runs short
	// (default: DuckDB's, a `.tmp` folder beside the warehouse file).
	TempDirectory string `yaml:"temp_directory"`
}

// Exclude lists accounts left out of every KPI.
type Exclude struct {
	// Customers are the customer references left out of every KPI (test
	// accounts).
	Customers []string `yaml:"customers"`
	// EmailDomains are the e-mail domains whose users are left out of every
	// KPI (internal and test users), such as `example.com` (without `@`).
	EmailDomains []string `yaml:"email_domains"`
}

// Checks are the limits that fail a run before anything is published.
type Checks struct {
	// MaxRejectPct fails the run, before anything is published, when the
	// rows rejected for a raw table pass this share (percent) of the rows
	// read for it; below it, the rejects are a warning.
	MaxRejectPct float64 `yaml:"max_reject_pct"`
	// MaxShrinkPct fails the run, before anything is published, when a raw
	// or output table has lost more than this share (percent) of its rows
	// since the last successful run (unless the run is given
	// `--allow-shrink`).
	MaxShrinkPct float64 `yaml:"max_shrink_pct"`
	// MaxCellChars rejects an input row holding a value longer than this many
	// characters (counted as characters, not bytes): far above any real name
	// or reference, far below the 50,000 characters a Google Sheets cell
	// holds. Must be above 0.
	MaxCellChars int `yaml:"max_cell_chars"`
}

// DefaultMaxCellChars is checks.max_cell_chars when the config does not set
// it: far above any real name or reference, far below the 50,000 characters
// a Google Sheets cell holds.
const DefaultMaxCellChars = 10000

// Notify is where run outcomes are sent.
type Notify struct {
	// WebhookURL is a chat webhook told when a run fails, with the run id,
	// the period and the error: uptake posts a Slack-compatible JSON message
	// (`{"text": "…"}`). Keep it in an environment variable
	// (`${UPTAKE_WEBHOOK}`). It is retried briefly and never changes the
	// run's outcome (default: none).
	WebhookURL string `yaml:"webhook_url"`
	// OnSuccess also tells the webhook of successful runs.
	OnSuccess bool `yaml:"on_success"`
}

// Job is a scheduled run.
type Job struct {
	// Name identifies the job in the history of runs, the logs and the
	// metrics. Required; the names of the jobs must differ.
	Name string `yaml:"name"`
	// Schedule is the cron expression that says when the job runs: five
	// fields (`minute hour day month weekday`, such as `0 2 * * *`), six
	// with seconds first, or `@daily`, `@hourly`… Required.
	Schedule string `yaml:"schedule"`
	// Timezone is the IANA time zone the schedule is read in (default: the
	// top-level `timezone`).
	Timezone string `yaml:"timezone"`
	// Retries is how many times a failed run is tried again (default 2; 0:
	// never).
	Retries *int `yaml:"retries"`
	// RetryDelay is the wait before the first retry, doubled for each next
	// one, at most 1h (default 5m).
	RetryDelay time.Duration `yaml:"retry_delay"`
}

// DefaultJob is the job of a config that lists none: nightly at 02:00.
var DefaultJob = Job{Name: "nightly", Schedule: "0 2 * * *"}

// Scheduler holds the settings of the long-running `uptake schedule`.
type Scheduler struct {
	// Listen is the address (`host:port`) that serves `/healthz` and
	// `/metrics`; `off` serves neither. Keep it on localhost unless a
	// firewall guards it.
	Listen string `yaml:"listen"`
	// OverdueAfter is how long after its time a job may go without a
	// successful run before `/healthz` reports it overdue.
	OverdueAfter time.Duration `yaml:"overdue_after"`
}

// ScheduledJobs returns the configured jobs with their defaults filled in.
func (c *Config) ScheduledJobs() []Job {
	jobs := c.Jobs
	if len(jobs) == 0 {
		jobs = []Job{DefaultJob}
	}
	out := make([]Job, len(jobs))
	for i, j := range jobs {
		if j.Timezone == "" {
			j.Timezone = c.Timezone
		}
		if j.Retries == nil {
			two := 2
			j.Retries = &two
		}
		if j.RetryDelay == 0 {
			j.RetryDelay = 5 * time.Minute
		}
		out[i] = j
	}
	return out
}

// LookerStudio is a Looker Studio template report and the published tables
// its data sources read.
type LookerStudio struct {
	// TemplateReportID is the id of the template report `uptake looker-link`
	// copies (in its URL: `/reporting/<id>`).
	TemplateReportID string `yaml:"template_report_id"`
	// ReportName is the new report's name.
	ReportName string `yaml:"report_name"`
	// DataSources maps each data source alias of the template (`ds0`,
	// `ds1`…) to a published table, as `{destination: <name>, table:
	// <table>}`: the name of a `bigquery` or `sheets` destination, and an
	// output table such as `kpi_overview_monthly`.
	DataSources map[string]LookerDataSource `yaml:"data_sources"`
}

// LookerDataSource binds a template's data source to a published table.
type LookerDataSource struct {
	// Destination is the name of a bigquery or sheets destination.
	Destination string `yaml:"destination"`
	// Table is the output table (kpi_overview_monthly, ...).
	Table string `yaml:"table"`
}

// Plugin is one source or destination: its name, its kind and the rest of its
// block, decoded later by the connector of that kind.
type Plugin struct {
	// Name identifies the plugin in logs and history (defaults to the kind).
	Name string
	// Kind selects the connector (csvexport, files, ...).
	Kind string
	// Node is the whole YAML mapping of the block.
	Node *yaml.Node
	// File is the config file the block came from.
	File string
}

// UnmarshalYAML keeps the block's node and reads its name and kind.
func (p *Plugin) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a mapping with at least `kind`", n.Line)
	}
	p.Node = n
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "name":
			p.Name = n.Content[i+1].Value
		case "kind":
			p.Kind = n.Content[i+1].Value
		}
	}
	if p.Kind == "" {
		return fmt.Errorf("line %d: missing `kind`", n.Line)
	}
	if p.Name == "" {
		p.Name = p.Kind
	}
	return nil
}

// Defaults returns a config with every default filled in.
func Defaults() Config {
	return Config{
		Warehouse: ".uptake/warehouse.duckdb",
		Timezone:  "UTC",
		KPI: KPI{
			ScoreEvents:              []string{"portal_view", "download", "share"},
			ActiveMinScore:           1,
			ChampionTopPct:           10,
			DropAlertPct:             50,
			LowUtilizationPct:        60,
			IncreasingUtilizationPts: 10,
			LowEngagementUsagePct:    20,
		},
		Checks:    Checks{MaxRejectPct: 1, MaxShrinkPct: 50, MaxCellChars: DefaultMaxCellChars},
		Scheduler: Scheduler{Listen: "127.0.0.1:9464", OverdueAfter: 6 * time.Hour},
	}
}

// Load reads, expands and validates the config file at path. The error lists
// every problem found, each naming the file and line.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load on bytes already read; path is used in messages.
func Parse(path string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: the file is empty", path)
	}
	doc := root.Content[0]
	if err := expandEnv(path, doc); err != nil {
		return nil, err
	}
	cfg := Defaults()
	if err := DecodeStrict(path, doc, &cfg); err != nil {
		return nil, err
	}
	cfg.File = path
	cfg.root = doc
	for i := range cfg.Sources {
		cfg.Sources[i].File = path
	}
	for i := range cfg.Destinations {
		cfg.Destinations[i].File = path
	}
	if errs := cfg.validate(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &cfg, nil
}

// Location returns the configured time zone.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Errorf builds an error that names the config file and the line of the key
// at path (dot-separated, list indexes as numbers: "sources.0.kind").
func (c *Config) Errorf(keyPath, format string, args ...any) error {
	line := 0
	if n := lookup(c.root, keyPath); n != nil {
		line = n.Line
	}
	return fmt.Errorf("%s:%d: %s: %s", c.File, line, keyPath, fmt.Sprintf(format, args...))
}

func (c *Config) validate() []error {
	var errs []error
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		errs = append(errs, c.Errorf("timezone", "unknown time zone %q (use an IANA name such as Europe/Paris)", c.Timezone))
	}
	if c.Warehouse == "" {
		errs = append(errs, c.Errorf("warehouse", "must not be empty"))
	} else if i := strings.IndexAny(c.Warehouse, "?#%"); i >= 0 {
		// DuckDB's Go driver reads a file's path as part of a URL
		// (etl/warehouse.DSN refuses such a path too, without the line)
		errs = append(errs, c.Errorf("warehouse", "%q holds %q, which DuckDB cannot open a file by: choose a path without ?, # or %%", c.Warehouse, c.Warehouse[i:i+1]))
	} else if strings.IndexFunc(c.Warehouse, unicode.IsControl) >= 0 {
		errs = append(errs, c.Errorf("warehouse", "%q holds a control character, which DuckDB cannot open a file by", c.Warehouse))
	}
	if c.DuckDB.Threads < 0 {
		errs = append(errs, c.Errorf("duckdb.threads", "must be 0 (one per core) or more, not %d", c.DuckDB.Threads))
	}
	if len(c.Sources) == 0 {
		errs = append(errs, c.Errorf("sources", "at least one source is needed"))
	}
	if len(c.Destinations) == 0 {
		errs = append(errs, c.Errorf("destinations", "at least one destination is needed"))
	}
	errs = append(errs, uniqueNames(c, "sources", c.Sources)...)
	errs = append(errs, uniqueNames(c, "destinations", c.Destinations)...)
	pct := func(key string, v float64) {
		if v < 0 || v > 100 {
			errs = append(errs, c.Errorf(key, "is a percentage between 0 and 100, not %g", v))
		}
	}
	pct("kpi.champion_top_pct", c.KPI.ChampionTopPct)
	pct("kpi.drop_alert_pct", c.KPI.DropAlertPct)
	pct("kpi.low_utilization_pct", c.KPI.LowUtilizationPct)
	pct("kpi.increasing_utilization_pts", c.KPI.IncreasingUtilizationPts)
	pct("checks.max_reject_pct", c.Checks.MaxRejectPct)
	pct("checks.max_shrink_pct", c.Checks.MaxShrinkPct)
	if c.Checks.MaxCellChars <= 0 {
		errs = append(errs, c.Errorf("checks.max_cell_chars", "must be a number of characters above 0, not %d", c.Checks.MaxCellChars))
	}
	if c.KPI.ActiveMinScore < 0 {
		errs = append(errs, c.Errorf("kpi.active_min_score", "must not be negative"))
	}
	if len(c.KPI.ScoreEvents) == 0 {
		errs = append(errs, c.Errorf("kpi.score_events", "at least one event is needed"))
	}
	pct("kpi.low_engagement_usage_pct", c.KPI.LowEngagementUsagePct)
	if len(c.KPI.Features) > MaxFeatures {
		errs = append(errs, c.Errorf("kpi.features", "lists %d features; at most %d (their combinations make the 16 segments)", len(c.KPI.Features), MaxFeatures))
	}
	featureNames := map[string]int{}
	for i := range c.KPI.Features {
		f := &c.KPI.Features[i]
		key := fmt.Sprintf("kpi.features.%d", i)
		if strings.TrimSpace(f.Name) == "" {
			errs = append(errs, c.Errorf(key, "missing `name`"))
		} else if j, dup := featureNames[f.Name]; dup {
			errs = append(errs, c.Errorf(key+".name", "name %q is already used by kpi.features.%d", f.Name, j))
		}
		featureNames[f.Name] = i
		if len(f.Events) == 0 {
			errs = append(errs, c.Errorf(key, "missing `events` (the activity events that are uses of the feature)"))
		}
		if f.MinUses < 0 {
			errs = append(errs, c.Errorf(key+".min_uses", "must be 1 or more, not %d", f.MinUses))
		}
		if f.MinUses == 0 {
			f.MinUses = 1
		}
	}
	jobNames := map[string]int{}
	for i, j := range c.Jobs {
		key := fmt.Sprintf("jobs.%d", i)
		if j.Name == "" {
			errs = append(errs, c.Errorf(key, "missing `name`"))
		} else if k, dup := jobNames[j.Name]; dup {
			errs = append(errs, c.Errorf(key+".name", "name %q is already used by jobs.%d", j.Name, k))
		}
		jobNames[j.Name] = i
		if strings.TrimSpace(j.Schedule) == "" {
			errs = append(errs, c.Errorf(key, "missing `schedule` (a cron expression such as \"0 2 * * *\")"))
		}
		if _, err := time.LoadLocation(j.Timezone); j.Timezone != "" && err != nil {
			errs = append(errs, c.Errorf(key+".timezone", "unknown time zone %q (use an IANA name such as Europe/Paris)", j.Timezone))
		}
		if j.Retries != nil && *j.Retries < 0 {
			errs = append(errs, c.Errorf(key+".retries", "must be 0 or more, not %d", *j.Retries))
		}
		if j.RetryDelay < 0 {
			errs = append(errs, c.Errorf(key+".retry_delay", "must not be negative"))
		}
	}
	if c.Scheduler.OverdueAfter <= 0 {
		errs = append(errs, c.Errorf("scheduler.overdue_after", "must be a positive duration such as 6h"))
	}
	for i, d := range c.Exclude.EmailDomains {
		if strings.Contains(d, "@") || strings.TrimSpace(d) == "" {
			errs = append(errs, c.Errorf(fmt.Sprintf("exclude.email_domains.%d", i), "expected a domain such as example.com, not %q", d))
		}
	}
	return errs
}

func uniqueNames(c *Config, key string, ps []Plugin) []error {
	var errs []error
	seen := map[string]int{}
	for i, p := range ps {
		if j, dup := seen[p.Name]; dup {
			errs = append(errs, c.Errorf(fmt.Sprintf("%s.%d", key, i), "name %q is already used by %s.%d; give each a distinct `name`", p.Name, key, j))
		}
		seen[p.Name] = i
	}
	return errs
}
