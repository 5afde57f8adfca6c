package etl

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/etl/warehouse"
)

// RunRecord is one row of the runs table.
type RunRecord struct {
	RunID, Job, Trigger, Status string
	WindowStart, WindowEnd      sql.NullTime
	StartedAt                   time.Time
	EndedAt                     sql.NullTime
	RowsIn, RowsOut             map[string]int64
	Error                       sql.NullString
}

// errNoWarehouse is openReadOnly's error before the first run.
var errNoWarehouse = errors.New("run uptake first")

// openReadOnly opens the warehouse for reading only: history, the
// scheduler's catch-up, backfill and reconcile read it beside a run (while a
// run writes to it, DuckDB's own lock makes queries fail with its message).
func openReadOnly(cfg *config.Config) (*sql.DB, error) {
	if _, err := os.Stat(cfg.Warehouse); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no warehouse at %s yet: %w", cfg.Warehouse, errNoWarehouse)
	}
	dsn, err := warehouse.DSN(cfg.Warehouse, "access_mode=read_only")
	if err != nil {
		return nil, fmt.Errorf("warehouse: %w", err)
	}
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Warehouse, err)
	}
	return db, nil
}

// History returns the last limit runs, newest first, from the warehouse.
func History(ctx context.Context, cfg *config.Config, limit int) ([]RunRecord, error) {
	db, err := openReadOnly(cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT run_id, job, trigger, status, window_start, window_end, started_at, ended_at,
		coalesce(rows_in::VARCHAR, '{}'), coalesce(rows_out::VARCHAR, '{}'), error
		FROM runs ORDER BY started_at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	defer rows.Close()
	var out []RunRecord
	for rows.Next() {
		var r RunRecord
		var in, outJSON string
		if err := rows.Scan(&r.RunID, &r.Job, &r.Trigger, &r.Status, &r.WindowStart, &r.WindowEnd, &r.StartedAt, &r.EndedAt, &in, &outJSON, &r.Error); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(in), &r.RowsIn)
		_ = json.Unmarshal([]byte(outJSON), &r.RowsOut)
		out = append(out, r)
	}
	return out, rows.Err()
}
