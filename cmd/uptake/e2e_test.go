package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	_ "github.com/duckdb/duckdb-go/v2"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/uptake-dev/uptake/connectors/bigquery/bqemu"
	"github.com/uptake-dev/uptake/etl"
)

// uptakeBin builds the binary once for the end-to-end tests.
func uptakeBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds the binary")
	}
	bin := filepath.Join(binDir, "uptake")
	buildOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			buildErr = string(out)
		}
	})
	if buildErr != "" {
		t.Fatalf("go build: %s", buildErr)
	}
	return bin
}

// repoRoot is where the commands of the README are run from.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// fixtureConfig writes a copy of testdata/kpi/uptake.yaml whose warehouse and
// out/ live in dir, with input paths from the repo root.
func fixtureConfig(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "kpi", "uptake.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "testdata/", filepath.Join(repoRoot(t), "testdata")+"/")
	text = strings.Replace(text, "warehouse: .uptake/warehouse.duckdb", "warehouse: "+filepath.Join(dir, "wh.duckdb"), 1)
	text = strings.Replace(text, "path: out", "path: "+filepath.Join(dir, "out"), 1)
	path := filepath.Join(dir, "uptake.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runBin(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(uptakeBin(t), args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestEndToEndRun(t *testing.T) {
	dir := t.TempDir()
	cfg := fixtureConfig(t, dir)
	stdout, stderr, code := runBin(t, dir, "run", "--config", cfg, "--as-of", "2026-10-15")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"succeeded", "period     2026-07 to 2026-09",
		"kpi_overview_monthly              3 rows", "customer_monthly                 17 rows",
		"September 2026 (latest complete month)",
		"Monthly active rate    100.0 %  (5 active / 5 activated customers)",
		"Usage %                 77.8 %  (7 active / 9 users)",
		"Churn risks                  2",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	// stderr is not a terminal: logs are JSON lines with the run id.
	if !strings.Contains(stderr, `"msg":"run succeeded"`) || !strings.Contains(stderr, `"run_id"`) {
		t.Errorf("stderr logs:\n%s", stderr)
	}
	out := filepath.Join(dir, "out")
	for _, table := range []string{"kpi_overview_monthly", "kpi_salesperson_monthly", "customer_monthly", "kpi_daily", "runs"} {
		for _, ext := range []string{".parquet", ".csv"} {
			if fi, err := os.Stat(filepath.Join(out, table+ext)); err != nil || fi.Size() == 0 {
				t.Errorf("%s%s: %v", table, ext, err)
			}
		}
	}
	csv, _ := os.ReadFile(filepath.Join(out, "kpi_overview_monthly.csv"))
	if !strings.HasPrefix(string(csv), "month,complete,customers,activated_customers,active_customers,monthly_active_rate,") ||
		!strings.Contains(string(csv), "\n2026-08-01,true,6,6,5,0.8333333333333334,42,83,") {
		t.Errorf("kpi_overview_monthly.csv:\n%s", csv)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !strings.Contains(string(html), "<svg") || strings.Contains(string(html), "https://") {
		t.Error("report.html should hold inline SVG and no remote resources")
	}
	// The warehouse and the lock are private; out/ is readable by whoever can read its folder.
	for path, want := range map[string]os.FileMode{filepath.Join(dir, "wh.duckdb"): 0o600, filepath.Join(dir, "lock"): 0o600,
		filepath.Join(out, "report.html"): 0o644, filepath.Join(out, "runs.parquet"): 0o644, filepath.Join(out, "uptake.duckdb"): 0o644} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, want %o", path, err, want)
			if err == nil {
				t.Errorf("%s is %o", path, fi.Mode().Perm())
			}
		}
	}

	// uptake.duckdb holds the output tables, readable by anyone with DuckDB.
	db, err := sql.Open("duckdb", filepath.Join(out, "uptake.duckdb")+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	var rate float64
	if err := db.QueryRow(`SELECT monthly_active_rate FROM kpi_overview_monthly WHERE month = '2026-08-01'`).Scan(&rate); err != nil || rate < 0.8333 || rate > 0.8334 {
		t.Errorf("uptake.duckdb: rate %v, %v", rate, err)
	}
	db.Close()

	// The warehouse's runs table has the run, with its counts.
	wh, err := sql.Open("duckdb", filepath.Join(dir, "wh.duckdb")+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	var status, rowsOut string
	if err := wh.QueryRow(`SELECT status, rows_out::VARCHAR FROM runs`).Scan(&status, &rowsOut); err != nil {
		t.Fatal(err)
	}
	if status != "success" || !strings.Contains(rowsOut, `"kpi_daily":89`) {
		t.Errorf("runs: %s %s", status, rowsOut)
	}
	wh.Close()

	// The same run again: every file is unchanged, none is parsed, no
	// month is built again, and the summary says so; --full-refresh parses
	// and builds everything again.
	if !strings.Contains(stdout, "files                    7 read, 0 unchanged since an earlier run read them") {
		t.Errorf("first summary:\n%s", stdout)
	}
	for flags, want := range map[string]string{"": "0 read, 7 unchanged", "--full-refresh": "7 read, 0 unchanged"} {
		args := []string{"run", "--config", cfg, "--as-of", "2026-10-15"}
		if flags != "" {
			args = append(args, flags)
		}
		again, stderr, code := runBin(t, dir, args...)
		if code != 0 || !strings.Contains(again, want) || !strings.Contains(again, "customer_monthly                 17 rows") {
			t.Errorf("run %s: exit %d, want %q\n%s\n%s", flags, code, want, again, stderr)
		}
		models := regexp.MustCompile(`models +0 months built, [1-9][0-9]* kept \(inputs unchanged\); [0-9]+ other models kept`).MatchString(again)
		if models != (flags == "") {
			t.Errorf("run %s: a models line saying no month was built: %v, want %v\n%s", flags, models, flags == "", again)
		}
	}
}

func TestEndToEndBadInputFailsWithClearMessage(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	os.WriteFile(filepath.Join(in, "establishments_2026-09.csv"), []byte("reference;archived\nE1;no\n"), 0o644)
	cfg := filepath.Join(dir, "uptake.yaml")
	os.WriteFile(cfg, []byte("warehouse: "+filepath.Join(dir, "wh.duckdb")+"\nsources:\n  - kind: csvexport\n    establishments:\n      path: "+in+"/establishments_*.csv\ndestinations:\n  - kind: files\n    path: "+filepath.Join(dir, "out")+"\n"), 0o644)
	stdout, _, code := runBin(t, dir, "run", "--config", cfg)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want := filepath.Join(in, "establishments_2026-09.csv") + `:1: missing required column "has_portal_access"`
	if !strings.Contains(stdout, want) || !strings.Contains(stdout, "Nothing was published") {
		t.Errorf("stdout lacks %q:\n%s", want, stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Errorf("out/ was created by a failed run")
	}

	// validate names the same problem and exits 1 without touching anything.
	stdout, _, code = runBin(t, dir, "validate", "--config", cfg)
	if code != 1 || !strings.Contains(stdout, want) || !strings.Contains(stdout, "1 problem(s)") || strings.Contains(stdout, "ok: ") {
		t.Errorf("validate exit %d (ok only when no problem was found):\n%s", code, stdout)
	}
}

func TestEndToEndValidate(t *testing.T) {
	dir := t.TempDir()
	cfg := fixtureConfig(t, dir)
	stdout, _, code := runBin(t, dir, "validate", "--config", cfg, "--as-of", "2026-10-15")
	if code != 0 || !strings.Contains(stdout, "ok: no problems found in "+cfg) || !strings.Contains(stdout, "raw_activity                     23 rows read, 0 rejected") {
		t.Errorf("validate exit %d:\n%s", code, stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "wh.duckdb")); !os.IsNotExist(err) {
		t.Error("validate created the warehouse")
	}
	// It builds the models as a run would, and says what a run would publish.
	if !regexp.MustCompile(`a run would publish \(from these inputs alone; what the warehouse keeps from earlier runs may add to it\)\n(  .*\n)*  kpi_overview_monthly +\d+ rows\n`).MatchString(stdout) || strings.Contains(stdout, "  runs ") {
		t.Errorf("validate does not say what a run would publish:\n%s", stdout)
	}
	// A typo in the config is named with its line.
	os.WriteFile(cfg, []byte("warehouse: x.duckdb\nsources: []\ndestinatons: []\n"), 0o644)
	stdout, _, code = runBin(t, dir, "validate", "--config", cfg)
	if code != 1 || !strings.Contains(stdout, cfg+`:3: unknown key "destinatons"`) {
		t.Errorf("validate exit %d:\n%s", code, stdout)
	}
}

func TestEndToEndSampleIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a", "b"} {
		if _, stderr, code := runBin(t, dir, "sample", "--out", d, "--customers", "20", "--users", "100", "--months", "3", "--seed", "7", "--end", "2026-09"); code != 0 {
			t.Fatalf("sample: %s", stderr)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, "a", "establishments_2026-09.csv"))
	b, _ := os.ReadFile(filepath.Join(dir, "b", "establishments_2026-09.csv"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("same seed, different establishments export")
	}
}

// TestEndToEndBundledSample runs the README's first command on the bundled
// sample (from the repo root, with the warehouse and out/ moved to a
// temporary folder so the checkout stays clean).
func TestEndToEndBundledSample(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "sample.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "warehouse: .uptake/warehouse.duckdb", "warehouse: "+filepath.Join(dir, "wh.duckdb"), 1)
	text = strings.Replace(text, "    path: out\n", "    path: "+filepath.Join(dir, "out")+"\n", 1)
	// A threshold of its own: the summary and the report show it, not the default.
	text = strings.Replace(text, "low_utilization_pct: 60", "low_utilization_pct: 45", 1)
	cfg := filepath.Join(dir, "sample.yaml")
	os.WriteFile(cfg, []byte(text), 0o644)
	stdout, stderr, code := runBin(t, repoRoot(t), "run", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"period     2025-11 to 2026-10", "kpi_overview_monthly             12 rows", "October 2026 (latest complete month)", "Monthly active rate"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stdout, "customers below 45 %)") {
		t.Errorf("summary lacks the threshold of 45 %%:\n%s", stdout)
	}
	report := readText(t, filepath.Join(dir, "out", "report.html"))
	if !strings.Contains(report, "below 45 %:") || !strings.Contains(report, "is below 45 %.") || strings.Contains(report, "below 60 %") {
		t.Error("report.html does not show the configured low-utilization threshold of 45 %")
	}
}

func TestEndToEndValidateListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	h := "reference,name,archived,has_portal_access,portal views,downloads,shares,salesperson,seats\n"
	files := map[string]string{
		"establishments_2026-06.csv": h + "E1,A,no,yes,1,0,0,Al,1\n",
		"establishments_2026-07.csv": "reference,archived\nE1,no\n", // missing has_portal_access
		"establishments_2026-08.csv": "",                            // empty
		// 2026-09 missing entirely
		"establishments_2026-10.csv": h + "E1,A,no,yes,1,0,0,Al,1\nE1,A,no,yes,1,0,0,Al,1\n", // duplicate
	}
	for name, content := range files {
		os.WriteFile(filepath.Join(in, name), []byte(content), 0o644)
	}
	cfg := filepath.Join(dir, "uptake.yaml")
	os.WriteFile(cfg, []byte("warehouse: "+filepath.Join(dir, "wh.duckdb")+"\nsources:\n  - kind: csvexport\n    establishments:\n      path: "+in+"/establishments_*.csv\ndestinations:\n  - kind: files\n    path: "+filepath.Join(dir, "out")+"\njobs:\n  - name: nightly\n    schedule: \"0 25 * * *\"\n"), 0o644)
	stdout, _, code := runBin(t, dir, "validate", "--config", cfg, "--as-of", "2026-11-05")
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
	if strings.Contains(stdout, "missing establishments export for 2026-07") || strings.Contains(stdout, "for 2026-08") {
		t.Errorf("a broken file is also reported as a missing month:\n%s", stdout)
	}
	for _, want := range []string{
		"5 problem(s)",
		"  - missing establishments export for 2026-09",
		"  - " + cfg + `:11: jobs.0.schedule: cron "0 25 * * *": end of range (25) above maximum (23): 25`,
		"  - " + filepath.Join(in, "establishments_2026-07.csv") + `:1: missing required column "has_portal_access"`,
		"  - " + filepath.Join(in, "establishments_2026-08.csv") + ": the file is empty",
		`  - ` + filepath.Join(in, "establishments_2026-10.csv") + `:2, ` + filepath.Join(in, "establishments_2026-10.csv") + `:3: duplicate reference "E1" in 2026-10`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestEndToEndBigQueryEmulator runs the fixture through `uptake run` with a
// bigquery destination pointed at the BigQuery emulator, and reads the
// published overview back with GoogleSQL.
func TestEndToEndBigQueryEmulator(t *testing.T) {
	host, project := bqemu.Address(t)
	dir := t.TempDir()
	cfg := fixtureConfig(t, dir)
	dataset := fmt.Sprintf("uptake_cli_%d", time.Now().UnixNano())
	b, _ := os.ReadFile(cfg)
	text := strings.Replace(string(b), "destinations:\n", fmt.Sprintf("destinations:\n  - kind: bigquery\n    project: %s\n    dataset: %s\n    location: US\n    endpoint: http://%s\n", project, dataset, host), 1)
	os.WriteFile(cfg, []byte(text), 0o644)
	stdout, stderr, code := runBin(t, dir, "run", "--config", cfg, "--as-of", "2026-10-15")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "published to bigquery: BigQuery dataset "+project+"."+dataset+" (US)") {
		t.Errorf("summary:\n%s", stdout)
	}
	ctx := context.Background()
	c, err := bq.NewClient(ctx, project, option.WithEndpoint("http://"+host+"/bigquery/v2/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	it, err := c.Query(fmt.Sprintf("SELECT FORMAT_DATE('%%Y-%%m', month), active_customers, activated_customers, churn_risks FROM `%s.%s.kpi_overview_monthly` ORDER BY month", project, dataset)).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		var row []bq.Value
		if err := it.Next(&row); err == iterator.Done {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%v %v %v %v", row[0], row[1], row[2], row[3]))
	}
	// The hand-computed overview (etl/kpi_test.go): active/activated and churn risks.
	if strings.Join(got, ",") != "2026-07 4 4 0,2026-08 5 6 2,2026-09 5 5 2" {
		t.Errorf("published overview = %v", got)
	}
	// The action list and the rates of change, as hand-computed in
	// etl/action_list_test.go and etl/kpi_flows_test.go.
	read := func(q string) []string {
		t.Helper()
		it, err := c.Query(fmt.Sprintf(q, project, dataset)).Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for {
			var row []bq.Value
			if err := it.Next(&row); err == iterator.Done {
				return out
			} else if err != nil {
				t.Fatal(err)
			}
			var cells []string
			for _, v := range row {
				cells = append(cells, fmt.Sprint(v))
			}
			out = append(out, strings.Join(cells, " "))
		}
	}
	plays := read("SELECT salesperson, customer_ref, play, priority FROM `%s.%s.action_list` ORDER BY salesperson, priority, play, customer_ref")
	if strings.Join(plays, ",") != "Alice E2 low_utilization 2,Alice E3 usage_drop 2,Alice E1 champion 3,Bob E4 low_utilization 2,Bob E6 low_utilization 2,Bob E4 usage_drop 2" {
		t.Errorf("published action list = %v", plays)
	}
	rates := read("SELECT FORMAT_DATE('%%Y-%%m', month), churned_customers, activated_at_start, ROUND(usage_retention, 4) FROM `%s.%s.kpi_overview_monthly` WHERE month >= '2026-08-01' ORDER BY month")
	if strings.Join(rates, ",") != "2026-08 0 4 0.75,2026-09 1 6 0.8" {
		t.Errorf("published rates = %v", rates)
	}
}

func TestEndToEndHistory(t *testing.T) {
	dir := t.TempDir()
	cfg := fixtureConfig(t, dir)
	if _, stderr, code := runBin(t, dir, "history", "--config", cfg); code != 1 || !strings.Contains(stderr, "no warehouse at") {
		t.Errorf("history before any run: exit %d, %s", code, stderr)
	}
	runBin(t, dir, "run", "--config", cfg, "--as-of", "2026-10-15")
	// A failing run: without September's export, tables shrink past max_shrink_pct.
	bad := filepath.Join(dir, "bad.yaml")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(bad, []byte(strings.Replace(string(b), "establishments_*.csv", "establishments_2026-0[78].csv", 1)+"checks:\n  max_shrink_pct: 1\n"), 0o644)
	runBin(t, dir, "run", "--config", bad, "--as-of", "2026-10-15")
	stdout, stderr, code := runBin(t, dir, "history", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	// Header, the failed run (newest first) with its error, the successful one.
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "run ") || !regexp.MustCompile(` manual +failed `).MatchString(lines[1]) ||
		!strings.Contains(lines[2], "error: ") || !regexp.MustCompile(` manual +success +2026-07 to 2026-09 `).MatchString(lines[3]) {
		t.Errorf("history:\n%s", stdout)
	}
}

// TestEndToEndSecondProcessIsTurnedAway holds the run lock in this process
// while the binary, another process, tries to run.
func TestEndToEndSecondProcessIsTurnedAway(t *testing.T) {
	dir := t.TempDir()
	cfg := fixtureConfig(t, dir)
	lock, err := etl.AcquireLock(filepath.Join(dir, "lock"), "nightly-123", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runBin(t, dir, "run", "--config", cfg, "--as-of", "2026-10-15")
	if code != 1 || !strings.Contains(stdout+stderr, "another uptake run is in progress: run nightly-123, pid ") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	lock.Release()
	if _, stderr, code := runBin(t, dir, "run", "--config", cfg, "--as-of", "2026-10-15"); code != 0 {
		t.Errorf("after the lock was released: exit %d: %s", code, stderr)
	}
}

// TestEndToEndValidateSaysWhatItRejected: rejects within
// checks.max_reject_pct do not stop a run, and validate says "ok", but not
// "no problems found" above the rejects it has just listed.
func TestEndToEndValidateSaysWhatItRejected(t *testing.T) {
	dir := t.TempDir()
	root := repoRoot(t)
	in := filepath.Join(dir, "sample")
	if err := os.CopyFS(in, os.DirFS(filepath.Join(root, "testdata", "sample"))); err != nil {
		t.Fatal(err)
	}
	activity := filepath.Join(in, "activity_2026-09.csv")
	b, err := os.ReadFile(activity)
	if err != nil {
		t.Fatal(err)
	}
	// Line 3's date cut short: September 1st read as "2026-09-0x".
	lines := strings.SplitN(string(b), "\n", 4)
	lines[2] = strings.Replace(lines[2], "2026-09-01", "2026-09-0x", 1)
	os.WriteFile(activity, []byte(strings.Join(lines, "\n")), 0o644)
	text := readText(t, filepath.Join(root, "config", "sample.yaml"))
	text = strings.ReplaceAll(text, "testdata/sample/", in+"/")
	cfg := filepath.Join(dir, "sample.yaml")
	os.WriteFile(cfg, []byte(text), 0o644)
	stdout, _, code := runBin(t, dir, "validate", "--config", cfg)
	for _, want := range []string{
		`reject   ` + activity + `:3: column "date": "2026-09-0x" is not a date`,
		"ok: " + cfg + " and its inputs can run; 1 row rejected (listed above), within checks.max_reject_pct",
	} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("validate exit %d, want 0 and %q:\n%s", code, want, stdout)
		}
	}
	if strings.Contains(stdout, "no problems found") {
		t.Errorf("validate says no problems found above a reject:\n%s", stdout)
	}
}
