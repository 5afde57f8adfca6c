package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// process is the binary started in the background, its JSON log lines
// readable one by one.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan map[string]any
	stdout strings.Builder
	done   chan struct{}
	code   int
}

func startBin(t *testing.T, dir string, args ...string) *process {
	t.Helper()
	p := &process{t: t, cmd: exec.Command(uptakeBin(t), append(args, "--log-format", "json")...),
		lines: make(chan map[string]any, 1000), done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Stdout = &p.stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				m = map[string]any{"msg": sc.Text()}
			}
			p.lines <- m
		}
		close(p.lines)
	}()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	go func() {
		err := p.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	return p
}

// waitLog reads log lines until one has msg (and, if set, the key/value).
func (p *process) waitLog(msg string) map[string]any {
	p.t.Helper()
	timeout := time.After(60 * time.Second)
	var seen []string
	for {
		select {
		case m, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("the process ended before logging %q:\n%s", msg, strings.Join(seen, "\n"))
			}
			if m["msg"] == msg {
				return m
			}
			if len(seen) < 50 {
				b, _ := json.Marshal(m)
				seen = append(seen, string(b))
			}
		case <-timeout:
			p.t.Fatalf("no log line %q within a minute:\n%s", msg, strings.Join(seen, "\n"))
		}
	}
}

// stop sends SIGTERM and waits for the exit code.
func (p *process) stop() int {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatal("the process did not stop within a minute of SIGTERM")
	}
	for range p.lines { // drain
	}
	return p.code
}

// sampleConfig writes a generated sample of about 600k activity rows (a
// run of a few seconds) and a config for it into dir.
func sampleConfig(t *testing.T, dir string) string {
	t.Helper()
	if _, stderr, code := runBin(t, dir, "sample", "--out", "data", "--activity", "600000", "--users", "20000", "--customers", "2000"); code != 0 {
		t.Fatalf("sample: %s", stderr)
	}
	cfg := `warehouse: .uptake/warehouse.duckdb
timezone: Europe/Paris
sources:
  - name: platform
    kind: csvexport
    establishments: {path: data/establishments_*.csv, expect_by_day: 0}
    users: {path: data/users_*.csv}
    activity: {path: data/activity_*.csv}
destinations:
  - name: local
    kind: files
    path: out
`
	path := filepath.Join(dir, "uptake.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// tree lists every file under dir with a hash of its content.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out = append(out, fmt.Sprintf("%s %x", rel, sha256.Sum256(b)))
		return nil
	})
	sort.Strings(out)
	return out
}

// SIGTERM while a run transforms: the run stops before publishing, out/
// keeps the previous run's files, history says why, the lock is free.
func TestEndToEndSIGTERMMidRun(t *testing.T) {
	dir := t.TempDir()
	cfg := sampleConfig(t, dir)
	if _, stderr, code := runBin(t, dir, "run", "--config", cfg); code != 0 {
		t.Fatalf("first run: %s", stderr)
	}
	before := tree(t, filepath.Join(dir, "out"))
	entries := func() []string {
		es, _ := os.ReadDir(dir)
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
	topBefore := entries()

	p := startBin(t, dir, "run", "--config", cfg)
	p.waitLog("built") // the first model is built: extract and load are over, publish is not near
	if code := p.stop(); code != 1 {
		t.Errorf("exit code %d after SIGTERM, want 1", code)
	}
	if !strings.Contains(p.stdout.String(), "the run was stopped before it published; nothing was published (stopped by SIGTERM)") {
		t.Errorf("summary:\n%s", p.stdout.String())
	}
	if after := tree(t, filepath.Join(dir, "out")); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("out/ changed:\nbefore %v\nafter  %v", before, after)
	}
	if got := entries(); strings.Join(got, " ") != strings.Join(topBefore, " ") {
		t.Errorf("files left beside out/: before %v, after %v", topBefore, got)
	}
	stdout, _, _ := runBin(t, dir, "history", "--config", cfg)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 || !regexp.MustCompile(` manual +stopped `).MatchString(lines[1]) ||
		!strings.Contains(lines[2], "error: the run was stopped before it published") || !strings.Contains(lines[3], " success ") {
		t.Errorf("history:\n%s", stdout)
	}
	// The lock went with the process; the warehouse still has the first
	// run's tables live, so the next run compares against them and succeeds.
	if _, stderr, code := runBin(t, dir, "run", "--config", cfg); code != 0 {
		t.Errorf("run after the stop: exit %d: %s", code, stderr)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric reads one sample of the Prometheus text format.
func metric(t *testing.T, body, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in /metrics:\n%s", series, body)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// uptake schedule fires a job every two seconds on the fixture, serves
// /healthz and /metrics, and stops cleanly on SIGTERM; then the same with
// a source that fails.
func TestEndToEndSchedule(t *testing.T) {
	dir := t.TempDir()
	cfg := fixtureConfig(t, dir)
	raw, _ := os.ReadFile(cfg)
	// Run today, the fixture's last export (September) is long due: no deadline.
	b := []byte(strings.Replace(string(raw), "establishments_*.csv", "establishments_*.csv\n      expect_by_day: 0", 1))
	os.WriteFile(cfg, append(b, []byte("jobs:\n  - name: often\n    schedule: \"*/2 * * * * *\"\n    retries: 0\n")...), 0o644)

	p := startBin(t, dir, "schedule", "--config", cfg, "--listen", "127.0.0.1:0")
	addr := p.waitLog("serving /healthz and /metrics")["address"].(string)
	done := p.waitLog("job succeeded")
	code, body := httpGet(t, addr+"/healthz")
	if code != 200 || !strings.Contains(body, `"healthy": true`) || !strings.Contains(body, `"last_run_id": "`+done["run_id"].(string)+`"`) {
		t.Errorf("healthz: %d %s", code, body)
	}
	_, metrics := httpGet(t, addr+"/metrics")
	if n := metric(t, metrics, `uptake_runs_total{job="often",status="success"}`); n < 1 {
		t.Errorf("runs_total = %v", n)
	}
	// The fixture's overview has one row per month, July to September.
	if n := metric(t, metrics, `uptake_rows_published{job="often",table="kpi_overview_monthly"}`); n != 3 {
		t.Errorf("rows published = %v, want 3", n)
	}
	if metric(t, metrics, `uptake_healthy`) != 1 || metric(t, metrics, `uptake_run_failures_total{job="often"}`) != 0 {
		t.Errorf("metrics:\n%s", metrics)
	}
	if code := p.stop(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	stdout, _, _ := runBin(t, dir, "history", "--config", cfg)
	if !regexp.MustCompile(` often +schedule success `).MatchString(stdout) || strings.Contains(stdout, "running") {
		t.Errorf("history:\n%s", stdout)
	}

	// The same job with the establishments export gone: every run fails.
	bad := strings.Replace(string(b), "establishments_*.csv", "nothing_*.csv", 1)
	os.WriteFile(cfg, []byte(bad+"jobs:\n  - name: often\n    schedule: \"*/2 * * * * *\"\n    retries: 1\n    retry_delay: 100ms\n"), 0o644)
	p = startBin(t, dir, "schedule", "--config", cfg, "--listen", "127.0.0.1:0")
	addr = p.waitLog("serving /healthz and /metrics")["address"].(string)
	p.waitLog("run failed; retrying")
	failed := p.waitLog("job failed")
	code, body = httpGet(t, addr+"/healthz")
	if code != 503 || !strings.Contains(body, `"problem": "the last run failed"`) || !strings.Contains(body, "nothing_*.csv") {
		t.Errorf("healthz after a failure: %d %s", code, body)
	}
	_, metrics = httpGet(t, addr+"/metrics")
	if metric(t, metrics, `uptake_run_failures_total{job="often"}`) < 1 || metric(t, metrics, `uptake_healthy`) != 0 ||
		metric(t, metrics, `uptake_last_run_success{job="often"}`) != 0 {
		t.Errorf("metrics after a failure:\n%s", metrics)
	}
	if p.stop() != 0 {
		t.Error("schedule did not exit cleanly")
	}
	if failed["error"] == nil {
		t.Errorf("the failure is logged without its error: %v", failed)
	}
}
