package etl_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/etl"
	uptakesql "github.com/uptake-dev/uptake/sql"
)

// TestRunsTableIsPublished runs the fixture twice and reads the runs table
// the files destination published the second time: the first run with its
// final status and counts, the second (the one publishing) still running.
func TestRunsTableIsPublished(t *testing.T) {
	// A business zone other than UTC: published timestamps must still be UTC.
	w := newWorkspace(t, "timezone: Europe/Paris\n")
	first, err := w.run(etl.Options{Job: "nightly"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := w.run(etl.Options{Job: "nightly", Trigger: "schedule"})
	if err != nil {
		t.Fatal(err)
	}
	// The first run counted its own runs row (running at the time).
	if first.RowsOut["runs"] != 1 || second.RowsOut["runs"] != 2 {
		t.Errorf("runs rows out: first %d, second %d; want 1 and 2", first.RowsOut["runs"], second.RowsOut["runs"])
	}

	out := filepath.Join(w.dir, "out")
	csv := readFile(t, filepath.Join(out, "runs.csv"))
	if header, _, _ := strings.Cut(csv, "\n"); header != "run_id,job,trigger,window_start,window_end,started_at,ended_at,status,rows_in,rows_out,error,published_at" {
		t.Errorf("runs.csv header = %s", header)
	}
	// In text too, the running row's start and published_at are the same UTC time.
	for _, line := range strings.Split(csv, "\n") {
		if f := strings.Split(line, ","); f[0] == second.RunID && (len(f) != 12 || f[7] != "running" || f[5] != f[11] ||
			!strings.HasPrefix(f[5], second.StartedAt.UTC().Format("2006-01-02 15:04:05"))) {
			t.Errorf("runs.csv row of the running run: %s", line)
		}
	}

	db, err := sql.Open("duckdb", filepath.Join(out, "uptake.duckdb")+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	type runRow struct {
		runID, job, trigger, status string
		windowStart, windowEnd      sql.NullString
		startedAt, publishedAt      time.Time
		endedAt                     sql.NullTime
		rowsIn, rowsOut, errText    sql.NullString
	}
	rows, err := db.Query(`SELECT run_id, job, trigger, window_start::VARCHAR, window_end::VARCHAR, started_at, ended_at, status,
		rows_in, rows_out, error, published_at FROM runs ORDER BY started_at`)
	if err != nil {
		t.Fatal(err)
	}
	var got []runRow
	for rows.Next() {
		var r runRow
		if err := rows.Scan(&r.runID, &r.job, &r.trigger, &r.windowStart, &r.windowEnd, &r.startedAt, &r.endedAt, &r.status,
			&r.rowsIn, &r.rowsOut, &r.errText, &r.publishedAt); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(got) != 2 {
		t.Fatalf("published runs has %d rows, want 2: %+v", len(got), got)
	}
	utc := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

	// The first run, as it ended.
	r := got[0]
	if r.runID != first.RunID || r.job != "nightly" || r.trigger != "manual" || r.status != "success" || r.errText.Valid ||
		r.windowStart.String != "2026-07-01" || r.windowEnd.String != "2026-09-01" {
		t.Errorf("first run: %+v", r)
	}
	if !r.startedAt.Equal(utc(first.StartedAt)) || !r.endedAt.Valid || !r.endedAt.Time.Equal(utc(first.EndedAt)) {
		t.Errorf("first run: started %v ended %v, want %v and %v (UTC)", r.startedAt, r.endedAt, utc(first.StartedAt), utc(first.EndedAt))
	}
	var rowsIn, rowsOut map[string]int64
	if err := json.Unmarshal([]byte(r.rowsIn.String), &rowsIn); err != nil {
		t.Fatalf("rows_in %q: %v", r.rowsIn.String, err)
	}
	if err := json.Unmarshal([]byte(r.rowsOut.String), &rowsOut); err != nil {
		t.Fatalf("rows_out %q: %v", r.rowsOut.String, err)
	}
	// Every output table is counted; these few checked by value.
	wantOut := map[string]int64{"customer_monthly": 17, "kpi_daily": 89, "kpi_overview_monthly": 3, "kpi_salesperson_monthly": 6, "runs": 1}
	for table, n := range wantOut {
		if rowsOut[table] != n {
			t.Errorf("first run rows_out[%s] = %d, want %d", table, rowsOut[table], n)
		}
	}
	if len(rowsOut) != len(uptakesql.Outputs()) || !reflect.DeepEqual(rowsOut, first.RowsOut) {
		t.Errorf("first run rows_out = %v, want every output of %v, as the run's result %v", rowsOut, uptakesql.Outputs(), first.RowsOut)
	}
	if rowsIn["raw_customers"] != 17 || rowsIn["raw_users"] != 12 || rowsIn["raw_activity"] != 23 || !reflect.DeepEqual(rowsIn, first.RowsIn) {
		t.Errorf("first run rows_in = %v", rowsIn)
	}

	// The second run, publishing: running, no end, no counts yet.
	r = got[1]
	if r.runID != second.RunID || r.job != "nightly" || r.trigger != "schedule" || r.status != "running" ||
		r.endedAt.Valid || r.rowsIn.Valid || r.rowsOut.Valid || r.errText.Valid || r.windowStart.Valid || r.windowEnd.Valid {
		t.Errorf("second run: %+v", r)
	}
	// published_at is the publishing run's start, in UTC like the other tables'.
	var kpiPublished time.Time
	if err := db.QueryRow(`SELECT max(published_at) FROM kpi_overview_monthly`).Scan(&kpiPublished); err != nil {
		t.Fatal(err)
	}
	if !r.startedAt.Equal(utc(second.StartedAt)) || !got[0].publishedAt.Equal(kpiPublished) || !r.publishedAt.Equal(kpiPublished) ||
		!r.publishedAt.Equal(utc(second.StartedAt)) {
		t.Errorf("second run started %v, published_at %v / %v, kpi published_at %v; want all %v", r.startedAt, got[0].publishedAt, r.publishedAt, kpiPublished, utc(second.StartedAt))
	}

	// Its final status is in history (and will be in the next publish).
	hist, err := etl.History(context.Background(), w.cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].RunID != second.RunID || hist[0].Status != "success" || hist[0].RowsOut["runs"] != 2 {
		t.Errorf("history = %+v", hist)
	}
	// The report lists runs among the tables written; its charts stay the KPIs'.
	if html := readFile(t, filepath.Join(out, "report.html")); !strings.Contains(html, "<code>runs</code> 2 rows") {
		t.Error("report.html does not list the runs table among the tables written")
	}
}
