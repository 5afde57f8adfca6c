package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/config/starter"
	"github.com/uptake-dev/uptake/etl"
)

// checkConfig loads the config at path with the environment variables it
// reads set, and checks it as validate --config-only does.
func checkConfig(t *testing.T, path string, env []string) {
	t.Helper()
	for _, name := range env {
		t.Setenv(name, "test-value")
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if _, err := etl.CheckConfig(cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestEverySetupValidates renders every combination of choices, with the
// values a user gives and with the CHANGE-ME placeholders, and checks the
// config as validate --config-only does.
func TestEverySetupValidates(t *testing.T) {
	dir := t.TempDir()
	at := map[string]string{"local": "exports", "gcs": "gs://acme-exports/platform", "sftp": "sftp://uptake@sftp.example.com/out", "https": "https://exports.example.com/acme/"}
	n := 0
	for _, exports := range starter.ExportsChoices {
		for _, ga4 := range starter.GA4Choices {
			for _, bq := range []bool{false, true} {
				for _, sheets := range []bool{false, true} {
					for _, filled := range []bool{false, true} {
						s := starter.Setup{Exports: exports, GA4: ga4, BigQuery: bq, Sheets: sheets, GA4Property: "123456789", GA4Dataset: "analytics_123456789"}
						if filled {
							s.ExportsAt, s.GA4Property, s.GA4Project, s.GA4Dataset = at[exports], "123456789", "acme-analytics", "analytics_123456789"
							s.BigQueryProject, s.SpreadsheetID = "acme-analytics", "1AbCdEfGhIjKlMnOpQrStUvWxYz"
						}
						text, err := s.Render()
						if err != nil {
							t.Fatalf("%+v: %v", s, err)
						}
						path := filepath.Join(dir, "uptake.yaml")
						if err := os.WriteFile(path, text, 0o600); err != nil {
							t.Fatal(err)
						}
						checkConfig(t, path, s.Env())
						if filled && bytes.Contains(text, []byte(starter.ChangeMe)) {
							t.Errorf("%+v: CHANGE-ME left although every value was given", s)
						}
						if strings.Contains(string(text), "password: s") || strings.Contains(string(text), "Bearer ey") {
							t.Errorf("%+v: a secret written in the config", s)
						}
						n++
					}
				}
			}
		}
	}
	if n != 4*3*2*2*2 {
		t.Errorf("%d setups checked, want 96", n)
	}
}

func TestSetupSecretsAreEnvironmentVariables(t *testing.T) {
	for exports, want := range map[string]string{"local": "", "gcs": "", "sftp": "UPTAKE_SFTP_PASSWORD", "https": "UPTAKE_EXPORTS_TOKEN"} {
		got := strings.Join(starter.Setup{Exports: exports, GA4: "none"}.Env(), ",")
		if got != want {
			t.Errorf("%s: env %q, want %q", exports, got, want)
		}
	}
	if err := (starter.Setup{Exports: "gcs", GA4: "none", ExportsAt: "sftp://h/x"}).Check(); err == nil || !strings.Contains(err.Error(), "must be a URL starting with gs://") {
		t.Errorf("gcs with an sftp URL: %v", err)
	}
	sheets, err := starter.Setup{Exports: "local", GA4: "none", Sheets: true}.Render()
	if err != nil {
		t.Fatal(err)
	}
	for _, tab := range []string{"kpi_overview_monthly: Overview", "kpi_salesperson_monthly: Salespeople", "action_list: Actions"} {
		if !strings.Contains(string(sheets), tab) {
			t.Errorf("the Sheets destination lacks the tab %q", tab)
		}
	}
	if err := (starter.Setup{Exports: "https", GA4: "none", ExportsAt: "https://h.example/out?token=abc"}).Check(); err == nil || !strings.Contains(err.Error(), "query string") {
		t.Errorf("a folder with a query: %v", err)
	}
	// A folder name with a space and a # stays whole.
	text, err := starter.Setup{Exports: "local", GA4: "none", ExportsAt: "my exports #1"}.Render()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "uptake.yaml")
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), `path: "my exports #1/users_*.csv"`) || len(cfg.Sources) != 1 {
		t.Errorf("config:\n%s", text)
	}
	if err := (starter.Setup{Exports: "ftp", GA4: "none"}).Check(); err == nil {
		t.Error("exports ftp accepted")
	}
	if err := (starter.Setup{Exports: "local", GA4: "api"}).Check(); err == nil || !strings.Contains(err.Error(), "the GA4 property id is needed") {
		t.Errorf("ga4 api without a property: %v", err)
	}
}

// TestInitAsksThenValidatesAndRuns: answers piped into uptake init (one a
// wrong choice, asked again) give a config of the bundled sample that
// validate reads without a problem, and that runs.
func TestInitAsksThenValidatesAndRuns(t *testing.T) {
	dir := t.TempDir()
	sample := filepath.Join(repoRoot(t), "testdata", "sample")
	cmd := exec.Command(uptakeBin(t), "init", "--out", "uptake.yaml")
	cmd.Dir = dir
	// exports: "disk" is refused, then local; its folder; no GA4, no BigQuery, no Sheets.
	cmd.Stdin = strings.NewReader("disk\nlocal\n" + sample + "\n\n\n\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("init: %v\n%s", err, out.String())
	}
	for _, want := range []string{"one of: local, gcs, sftp, https", "wrote uptake.yaml", "uptake validate --config uptake.yaml"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("init's output lacks %q:\n%s", want, out.String())
		}
	}
	text := readText(t, filepath.Join(dir, "uptake.yaml"))
	if !strings.Contains(text, `path: "`+sample+`/activity_*.csv"`) || strings.Contains(text, "kind: bigquery") {
		t.Errorf("config:\n%s", text)
	}
	// The bundled sample ends in October 2026: as of then, every export is there.
	stdout, stderr, code := runBin(t, dir, "validate", "--config", "uptake.yaml", "--as-of", "2026-10-20")
	if code != 0 || !strings.Contains(stdout, "ok: no problems found") {
		t.Fatalf("validate: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runBin(t, dir, "run", "--config", "uptake.yaml", "--as-of", "2026-10-20")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "report.html")); err != nil {
		t.Error(err)
	}

	// A second init does not replace the config without --force.
	_, stderr, code = runBin(t, dir, "init", "--exports", "gcs")
	if code == 0 || !strings.Contains(stderr, "uptake.yaml exists") {
		t.Errorf("init over an existing config: exit %d, %s", code, stderr)
	}
	_, stderr, code = runBin(t, dir, "init", "--exports", "gcs", "--force")
	if code != 0 || !strings.Contains(readText(t, filepath.Join(dir, "uptake.yaml")), "gs://change-me/platform/activity_*.csv") {
		t.Errorf("init --force: exit %d, %s", code, stderr)
	}
}

// TestInitReportsAConfigThatDoesNotValidate: a value the connector refuses
// (a BigQuery project id too short) is reported with its line.
func TestInitReportsAConfigThatDoesNotValidate(t *testing.T) {
	// With the emulator (CI), a project id is not checked against Google's form.
	t.Setenv("BIGQUERY_EMULATOR_HOST", "")
	os.Unsetenv("BIGQUERY_EMULATOR_HOST")
	dir := t.TempDir()
	stdout, _, code := runBin(t, dir, "init", "--exports", "local", "--bigquery-project", "acme")
	if code != 1 || !strings.Contains(stdout, `bigquery "warehouse": "acme" is not a Google Cloud project id`) || !strings.Contains(stdout, "fix them in uptake.yaml") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}

// examples are the setups of examples/: file name → setup.
var examples = map[string]starter.Setup{
	"local-files.yaml": {Exports: "local", GA4: "none", ExportsAt: "exports"},
	"gcs-ga4-export-bigquery.yaml": {Exports: "gcs", GA4: "export", ExportsAt: "gs://acme-exports/platform",
		GA4Project: "acme-analytics", GA4Dataset: "analytics_123456789", BigQuery: true, BigQueryProject: "acme-analytics"},
	"sftp-ga4-api-sheets.yaml": {Exports: "sftp", GA4: "api", ExportsAt: "sftp://uptake@sftp.partner.example/out",
		GA4Property: "123456789", Sheets: true, SpreadsheetID: "1AbCdEfGhIjKlMnOpQrStUvWxYz"},
	"https-bigquery-sheets.yaml": {Exports: "https", GA4: "none", ExportsAt: "https://exports.partner.example/acme",
		BigQuery: true, BigQueryProject: "acme-analytics", Sheets: true, SpreadsheetID: "1AbCdEfGhIjKlMnOpQrStUvWxYz"},
}

// TestExamples: each config of examples/ is what uptake init writes for its
// setup (UPDATE_EXAMPLES=1 rewrites them), and validates.
func TestExamples(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "examples")
	entries, err := os.ReadDir(dir)
	if err != nil && os.Getenv("UPDATE_EXAMPLES") == "" {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".yaml") {
			found[e.Name()] = true
		}
	}
	for name, s := range examples {
		want, err := s.Render()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if os.Getenv("UPDATE_EXAMPLES") != "" {
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		} else if got := readText(t, path); got != string(want) {
			t.Errorf("examples/%s is stale: run UPDATE_EXAMPLES=1 go test ./cmd/uptake -run TestExamples", name)
		}
		delete(found, name)
		checkConfig(t, path, s.Env())
	}
	for name := range found {
		t.Errorf("examples/%s is not a known setup (add it to the examples map)", name)
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestValidateConfigOnly: --config-only checks an example that names a
// bucket, an SFTP server and Google services without reaching any of them,
// and still reports a bad value with its line.
func TestValidateConfigOnly(t *testing.T) {
	t.Setenv("UPTAKE_SFTP_PASSWORD", "x")
	dir := repoRoot(t)
	stdout, stderr, code := runBin(t, dir, "validate", "--config-only", "--config", "examples/sftp-ga4-api-sheets.yaml")
	if code != 0 || !strings.Contains(stdout, "ok: no problems found in examples/sftp-ga4-api-sheets.yaml (its inputs were not read)") {
		t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	text := strings.Replace(readText(t, filepath.Join(dir, "examples", "local-files.yaml")), `path: "exports/users_*.csv"`, "path: http://x.example/users_*.csv", 1)
	if err := os.WriteFile(bad, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = runBin(t, dir, "validate", "--config-only", "--config", bad)
	if code != 1 || !strings.Contains(stdout, `bad.yaml:15: csvexport "platform": users.path: "http://x.example/users_*.csv": plain http is refused`) {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}
