// Command explain prints DuckDB's EXPLAIN ANALYZE of one model of sql/ on a
// warehouse that a run has built (bench/data/.uptake/warehouse.duckdb after
// bench/run): where a model's time goes. Usage, from the repo root:
//
//	go run ./bench/explain bench/data/.uptake/warehouse.duckdb sql/marts/action_list.sql
package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: explain WAREHOUSE MODEL.sql")
		os.Exit(2)
	}
	if err := run(context.Background(), os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "explain:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, warehouse, model string) error {
	query, err := os.ReadFile(model)
	if err != nil {
		return err
	}
	db, err := sql.Open("duckdb", warehouse+"?access_mode=read_only")
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var live string
	if err := conn.QueryRowContext(ctx, `SELECT value FROM main.state WHERE key = 'live_schema'`).Scan(&live); err != nil {
		return fmt.Errorf("live schema: %w", err)
	}
	// The variables the models read, with the config defaults.
	for _, v := range []string{
		"SET search_path = '" + live + ",main'",
		"SET VARIABLE as_of = DATE '2026-11-15'", "SET VARIABLE users_as_of = DATE '2026-11-15'", "SET VARIABLE published_at = now()::TIMESTAMP",
		"SET VARIABLE score_events = ['portal_view', 'download', 'share']", "SET VARIABLE usage_events = []::VARCHAR[]",
		"SET VARIABLE active_min_score = 1::DOUBLE", "SET VARIABLE champion_top_pct = 10::DOUBLE",
		"SET VARIABLE champion_min_score = NULL::DOUBLE", "SET VARIABLE drop_alert_pct = 50::DOUBLE",
		"SET VARIABLE low_utilization_pct = 60::DOUBLE", "SET VARIABLE increasing_utilization_pts = 10::DOUBLE",
		"SET VARIABLE low_engagement_usage_pct = 20::DOUBLE", "SET VARIABLE milestone_events = []::VARCHAR[]",
		"SET VARIABLE features = []::STRUCT(name VARCHAR, events VARCHAR[], min_uses BIGINT, bit INTEGER)[]",
		"SET VARIABLE exclude_customers = []::VARCHAR[]", "SET VARIABLE exclude_email_domains = []::VARCHAR[]",
	} {
		if _, err := conn.ExecContext(ctx, v); err != nil {
			return fmt.Errorf("%s: %w", v, err)
		}
	}
	rows, err := conn.QueryContext(ctx, "EXPLAIN ANALYZE "+string(query))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, plan string
		if err := rows.Scan(&kind, &plan); err != nil {
			return err
		}
		fmt.Println(plan)
	}
	return rows.Err()
}
