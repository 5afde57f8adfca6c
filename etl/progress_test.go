package etl

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/etl/warehouse"
)

// A process killed between two commits leaves its run 'running' with the
// destinations that had the run and those that did not; the next run marks
// it interrupted and keeps that.
func TestAKillBetweenCommitsIsNamedByTheNextRun(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "uptake.yaml"), []byte("warehouse: "+filepath.Join(dir, "wh.duckdb")+"\nsources: [{kind: csvexport, establishments: {path: x_*.csv}}]\ndestinations: [{kind: files, path: "+filepath.Join(dir, "out")+"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := warehouse.Open(ctx, warehouse.Options{Path: cfg.Warehouse})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO main.runs (run_id, job, trigger, started_at, status) VALUES ('killed', 'nightly', 'schedule', now(), 'running')`); err != nil {
		t.Fatal(err)
	}
	// The run that is killed: BigQuery committed, out/ not yet.
	res := &Result{RunID: "killed", Published: []string{"bq"}}
	recordProgress(ctx, conn, res, []publication{{name: "local"}}, log)
	conn.Close()
	db.Close()

	next := &Result{RunID: "next", StartedAt: time.Now()}
	_, conn, release, err := begin(ctx, withDefaults(Options{Config: cfg}), next)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var status, msg string
	if err := conn.QueryRowContext(ctx, `SELECT status, error FROM main.runs WHERE run_id = 'killed'`).Scan(&status, &msg); err != nil {
		t.Fatal(err)
	}
	want := "interrupted: the process stopped before the run ended, after publishing to bq, not to local, which kept the previous run's tables"
	if status != "failed" || msg != want {
		t.Errorf("%s: %q\nwant %q", status, msg, want)
	}
	if !strings.HasPrefix(msg, "interrupted:") { // the scheduler's catch-up recognises it by this
		t.Error("prefix lost")
	}
}
