package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/etl"
)

func TestEndToEndBackfill(t *testing.T) {
	dir := t.TempDir()
	cfg := fixtureConfig(t, dir)
	stdout, stderr, code := runBin(t, dir, "backfill", "--config", cfg, "--from", "2026-07", "--to", "2026-09")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Not a terminal: plain lines, one per period start and end.
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	want := []string{
		`^backfill 2026-07 \(1/3\): started$`,
		`^backfill 2026-07 \(1/3\): done in \S+, \d+ rows read, \d+ rows published, \d+ rows/s, ETA \S+$`,
		`^backfill 2026-08 \(2/3\): started$`,
		`^backfill 2026-08 \(2/3\): done in `,
		`^backfill 2026-09 \(3/3\): started$`,
		`^backfill 2026-09 \(3/3\): done in .*, ETA 0s$`,
		`^backfill: 3 of 3 months done in \S+$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("output:\n%s", stdout)
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %s", i+1, lines[i], re)
		}
	}
	stdout, _, _ = runBin(t, dir, "backfill", "--config", cfg, "--from", "2026-07", "--to", "2026-09")
	if strings.TrimSpace(stdout) != "backfill: every month from 2026-07 to 2026-09 is already done (--force runs them again)" {
		t.Errorf("second backfill:\n%s", stdout)
	}
	stdout, _, _ = runBin(t, dir, "backfill", "--config", cfg, "--from", "2026-07", "--to", "2026-10")
	if !strings.HasPrefix(stdout, "backfill: 2026-07, 2026-08, 2026-09 already done, skipped (--force runs them again)\nbackfill 2026-10 (1/1): started\n") {
		t.Errorf("extended backfill:\n%s", stdout)
	}
	if _, stderr, code := runBin(t, dir, "backfill", "--config", cfg, "--from", "2026-7", "--to", "2026-09"); code != 1 ||
		!strings.Contains(stderr, `--from: expected a month such as 2026-01, not "2026-7"`) {
		t.Errorf("bad --from: exit %d, %s", code, stderr)
	}
	history, _, _ := runBin(t, dir, "history", "--config", cfg)
	if n := len(regexp.MustCompile(` backfill 2026-(07|08|09|10) +backfill success `).FindAllString(history, -1)); n != 4 {
		t.Errorf("history:\n%s", history)
	}
}

// On a terminal the bar shows the month, the step, rows/s and the time left.
func TestBackfillProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := &barProgress{w: &buf}
	jul, aug := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	p.period(etl.PeriodEvent{Period: jul, Index: 1, Total: 2, Skipped: []time.Time{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}})
	p.step(etl.Step{Name: "extract", Table: "raw_activity", Rows: 50000})
	time.Sleep(150 * time.Millisecond) // past the bar's throttle
	p.step(etl.Step{Name: "transform", Table: "stg_customer_scores", Rows: 300})
	p.period(etl.PeriodEvent{Period: jul, Index: 1, Total: 2, Result: &etl.Result{}})
	p.period(etl.PeriodEvent{Period: aug, Index: 2, Total: 2})
	time.Sleep(150 * time.Millisecond)
	p.step(etl.Step{Name: "publish", Table: "bigquery", Rows: 1200})
	p.period(etl.PeriodEvent{Period: aug, Index: 2, Total: 2, Result: &etl.Result{}})
	p.close()
	out := buf.String()
	for _, want := range []string{
		"backfill: 2026-06 already done, skipped",
		"2026-07 transform stg_customer_scores, ",
		" rows/s",
		"(1/2)",
		"2026-08 publish bigquery",
		"(2/2)",
		"100%",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output lacks %q:\n%q", want, out)
		}
	}
	if !regexp.MustCompile(`\[\d+s:\d+s\]`).MatchString(out) {
		t.Errorf("no elapsed:left time in %q", out)
	}
}
