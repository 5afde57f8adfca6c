package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/etl"
)

// A failure between two commits: the summary names the destinations that
// have the run and those that keep the previous tables.
func TestSummaryNamesAFailureBetweenCommits(t *testing.T) {
	var b bytes.Buffer
	res := &etl.Result{RunID: "r1", Status: "failed", StartedAt: time.Now(), EndedAt: time.Now(),
		Published: []string{"bq"}, NotPublished: []string{"sheets", "local"}}
	printSummary(&b, &config.Config{File: "uptake.yaml"}, res, errors.New("destination sheets: 400"))
	if !strings.Contains(b.String(), "Published to bq before the failure; not to sheets, local, which keep the previous run's tables") {
		t.Errorf("summary:\n%s", b.String())
	}
	b.Reset()
	res.Published, res.NotPublished = nil, nil
	printSummary(&b, &config.Config{File: "uptake.yaml"}, res, errors.New("destination sheets: 403"))
	if !strings.Contains(b.String(), "Nothing was published") {
		t.Errorf("summary:\n%s", b.String())
	}
}

// The tables' counts: one row is "1 row".
func TestSummaryCountsRows(t *testing.T) {
	var b bytes.Buffer
	res := &etl.Result{RunID: "r1", Status: "success", StartedAt: time.Now(), EndedAt: time.Now(),
		RowsOut: map[string]int64{"runs": 1, "kpi_daily": 363}, Outputs: []string{"kpi_daily", "runs"}}
	printSummary(&b, &config.Config{File: "uptake.yaml"}, res, nil)
	for _, want := range []string{"  kpi_daily                       363 rows\n", "  runs                              1 row\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}
