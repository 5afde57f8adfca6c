package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

const minimal = `warehouse: w.duckdb
sources:
  - kind: csvexport
destinations:
  - kind: files
`

func TestDefaults(t *testing.T) {
	cfg, err := Parse("u.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timezone != "UTC" || cfg.KPI.ActiveMinScore != 1 || cfg.KPI.ChampionTopPct != 10 || cfg.KPI.DropAlertPct != 50 ||
		cfg.Checks.MaxRejectPct != 1 || cfg.Checks.MaxShrinkPct != 50 || cfg.Checks.MaxCellChars != 10000 || strings.Join(cfg.KPI.ScoreEvents, ",") != "portal_view,download,share" {
		t.Errorf("defaults: %+v", cfg)
	}
	if cfg.Sources[0].Name != "csvexport" || cfg.Sources[0].File != "u.yaml" || cfg.Destinations[0].Kind != "files" {
		t.Errorf("plugins: %+v %+v", cfg.Sources, cfg.Destinations)
	}
}

func TestMaxCellChars(t *testing.T) {
	cfg, err := Parse("u.yaml", []byte(minimal+"checks:\n  max_cell_chars: 500\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Checks.MaxCellChars != 500 || cfg.Checks.MaxRejectPct != 1 {
		t.Errorf("checks = %+v", cfg.Checks)
	}
	for _, v := range []string{"0", "-3"} {
		_, err := Parse("u.yaml", []byte(minimal+"checks:\n  max_cell_chars: "+v+"\n"))
		if want := "u.yaml:7: checks.max_cell_chars: must be a number of characters above 0, not " + v; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("max_cell_chars %s: err = %v, want %q", v, err, want)
		}
	}
}

func TestUnknownKeyNamesFileAndLine(t *testing.T) {
	_, err := Parse("u.yaml", []byte(minimal+"kpi:\n  active_min_scor: 3\n"))
	if err == nil || !strings.Contains(err.Error(), `u.yaml:7: unknown key "active_min_scor"`) || !strings.Contains(err.Error(), "active_min_score") {
		t.Errorf("err = %v", err)
	}
}

func TestWrongTypeNamesFileAndLine(t *testing.T) {
	_, err := Parse("u.yaml", []byte(minimal+"duckdb:\n  threads: many\n"))
	if err == nil || !strings.Contains(err.Error(), "u.yaml") || !strings.Contains(err.Error(), "line 7") {
		t.Errorf("err = %v", err)
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	_, err := Parse("u.yaml", []byte(`warehouse: w.duckdb
timezone: Mars/Olympus
sources:
  - kind: csvexport
  - kind: csvexport
destinations: []
kpi:
  drop_alert_pct: 150
exclude:
  email_domains: [bob@example.com]
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`u.yaml:2: timezone: unknown time zone "Mars/Olympus"`,
		`u.yaml:6: destinations: at least one destination is needed`,
		`u.yaml:5: sources.1: name "csvexport" is already used by sources.0`,
		`u.yaml:8: kpi.drop_alert_pct: is a percentage between 0 and 100, not 150`,
		`u.yaml:10: exclude.email_domains.0: expected a domain`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestEnvironmentExpansion(t *testing.T) {
	t.Setenv("UPTAKE_TEST_WH", "/data/wh.duckdb")
	cfg, err := Parse("u.yaml", []byte(strings.Replace(minimal, "w.duckdb", "${UPTAKE_TEST_WH}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Warehouse != "/data/wh.duckdb" {
		t.Errorf("warehouse = %q", cfg.Warehouse)
	}
	os.Unsetenv("UPTAKE_TEST_SECRET")
	_, err = Parse("u.yaml", []byte(minimal+"timezone: ${UPTAKE_TEST_SECRET}\n"))
	if err == nil || !strings.Contains(err.Error(), "u.yaml:6: environment variable UPTAKE_TEST_SECRET is not set") {
		t.Errorf("err = %v", err)
	}
}

func TestSampleConfigLoads(t *testing.T) {
	cfg, err := Load("sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timezone != "Europe/Paris" || len(cfg.Sources) != 2 || cfg.Sources[1].Kind != "ga4_export_file" || cfg.Destinations[0].Kind != "files" {
		t.Errorf("sample.yaml: %+v", cfg)
	}
}

func TestJobs(t *testing.T) {
	cfg, err := Parse("u.yaml", []byte(minimal+`timezone: Europe/Paris
jobs:
  - name: nightly
    schedule: "30 2 * * *"
    retries: 0
  - name: monday
    schedule: "0 7 * * 1"
    timezone: America/New_York
    retry_delay: 90s
scheduler:
  listen: 0.0.0.0:9100
  overdue_after: 3h
`))
	if err != nil {
		t.Fatal(err)
	}
	jobs := cfg.ScheduledJobs()
	if len(jobs) != 2 || jobs[0].Timezone != "Europe/Paris" || *jobs[0].Retries != 0 || jobs[0].RetryDelay != 5*time.Minute ||
		jobs[1].Timezone != "America/New_York" || *jobs[1].Retries != 2 || jobs[1].RetryDelay != 90*time.Second {
		t.Errorf("jobs: %+v %+v", jobs[0], jobs[1])
	}
	if cfg.Scheduler.Listen != "0.0.0.0:9100" || cfg.Scheduler.OverdueAfter != 3*time.Hour {
		t.Errorf("scheduler: %+v", cfg.Scheduler)
	}

	def, err := Parse("u.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if jobs := def.ScheduledJobs(); len(jobs) != 1 || jobs[0].Name != "nightly" || jobs[0].Schedule != "0 2 * * *" || jobs[0].Timezone != "UTC" ||
		def.Scheduler.Listen != "127.0.0.1:9464" || def.Scheduler.OverdueAfter != 6*time.Hour {
		t.Errorf("default job: %+v, scheduler %+v", jobs, def.Scheduler)
	}

	_, err = Parse("u.yaml", []byte(minimal+`jobs:
  - name: a
    schedule: "0 2 * * *"
    retries: -1
  - name: a
    timezone: Mars/Olympus
`))
	for _, want := range []string{"u.yaml:9: jobs.0.retries: must be 0 or more", "u.yaml:10: jobs.1.name: name \"a\" is already used",
		"u.yaml:10: jobs.1: missing `schedule`", "u.yaml:11: jobs.1.timezone: unknown time zone"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

func TestFeatures(t *testing.T) {
	cfg, err := Parse("u.yaml", []byte(minimal+`kpi:
  features:
    - {name: search, events: [search]}
    - {name: quick order, events: [quick_order, reorder], min_uses: 3}
  milestone_events: [order_placed]
`))
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.KPI.Features
	if len(f) != 2 || f[0].MinUses != 1 || f[1].MinUses != 3 || strings.Join(f[1].Events, ",") != "quick_order,reorder" ||
		cfg.KPI.LowEngagementUsagePct != 20 || cfg.KPI.MilestoneEvents[0] != "order_placed" {
		t.Errorf("features: %+v", cfg.KPI)
	}
	_, err = Parse("u.yaml", []byte(minimal+`kpi:
  features:
    - {name: a, events: [x]}
    - {name: a, events: [y]}
    - {name: c}
    - {name: d, events: [z], min_uses: -1}
    - {name: e, events: [w]}
`))
	for _, want := range []string{"u.yaml:8: kpi.features: lists 5 features; at most 4", `u.yaml:9: kpi.features.1.name: name "a" is already used`,
		"u.yaml:10: kpi.features.2: missing `events`", "u.yaml:11: kpi.features.3.min_uses: must be 1 or more"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

func TestEnvVars(t *testing.T) {
	text := []byte("a: ${B_VAR}\nb: \"x ${A_VAR} y ${B_VAR}\"  # not ${C_VAR}\n# ${D_VAR}\nc: [\"${E_VAR}\"]\n")
	got, err := EnvVars(text)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "A_VAR,B_VAR,E_VAR" {
		t.Errorf("EnvVars = %v, want A_VAR, B_VAR, E_VAR (none from comments)", got)
	}
}

// TestAWarehousePathDuckDBCannotOpenIsRefused: DuckDB's Go driver reads a
// path as part of a URL; a '?', '#' or '%' in the warehouse's path is
// refused with the config's line, before anything is opened.
func TestAWarehousePathDuckDBCannotOpenIsRefused(t *testing.T) {
	for _, path := range []string{"data/what?/w.duckdb", "C#/w.duckdb", "100%/w.duckdb"} {
		_, err := Parse("u.yaml", []byte(strings.Replace(minimal, "w.duckdb", path, 1)))
		want := "u.yaml:1: warehouse: \"" + path + "\" holds"
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "without ?, # or %") {
			t.Errorf("%s: err = %v, want %q", path, err, want)
		}
	}
	if _, err := Parse("u.yaml", []byte(strings.Replace(minimal, "w.duckdb", `"tab\there/w.duckdb"`, 1))); err == nil || !strings.Contains(err.Error(), `u.yaml:1: warehouse: "tab\there/w.duckdb" holds a control character`) {
		t.Errorf("a path with a tab: %v", err)
	}
	if _, err := Parse("u.yaml", []byte(strings.Replace(minimal, "w.duckdb", "ventes & clients (été)/w.duckdb", 1))); err != nil {
		t.Errorf("a path with spaces, & and accents: %v", err)
	}
}
