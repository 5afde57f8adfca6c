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
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	uptakesql "github.com/uptake-dev/uptake/sql"
)

func main() {
	if len(os.Args) != 3 && len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: explain WAREHOUSE MODEL.sql [YYYY-MM]")
		os.Exit(2)
	}
	month := ""
	if len(os.Args) == 4 {
		month = os.Args[3]
	}
	if err := run(context.Background(), os.Args[1], os.Args[2], month); err != nil {
		fmt.Fprintln(os.Stderr, "explain:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, warehouse, model, month string) error {
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
	q := string(query)
	if month != "" {
		if q, err = oneMonth(ctx, conn, live, model, q, month); err != nil {
			return err
		}
	}
	rows, err := conn.QueryContext(ctx, "EXPLAIN ANALYZE "+q)
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

// oneMonth shadows each monthly input of the model (named after its file)
// with a temporary view of the months its @lookback reads from month, and
// returns the query of that month's rows.
func oneMonth(ctx context.Context, conn *sql.Conn, live, file, query, month string) (string, error) {
	first, err := time.Parse("2006-01", month)
	if err != nil {
		return "", fmt.Errorf("month %q: want YYYY-MM", month)
	}
	models, err := uptakesql.Models()
	if err != nil {
		return "", err
	}
	contract, err := uptakesql.Contract()
	if err != nil {
		return "", err
	}
	monthOf := map[string]string{}
	var m *uptakesql.Model
	for i, x := range append(contract, models...) {
		if x.Month != "" {
			monthOf[x.Name] = x.Month
		}
		if i >= len(contract) && x.Name == strings.TrimSuffix(filepath.Base(file), ".sql") {
			m = &models[i-len(contract)]
		}
	}
	if m == nil || m.Month == "" {
		return "", fmt.Errorf("%s: not a model with @month", file)
	}
	for _, in := range append(slices.Clone(m.Raw), m.Deps...) {
		expr, ok := monthOf[in]
		if !ok {
			continue
		}
		cond := fmt.Sprintf("(%s) < DATE '%s'", expr, first.AddDate(0, 1, 0).Format(time.DateOnly))
		if back, ok := m.Lookback[in]; !ok || back >= 0 {
			cond += fmt.Sprintf(" AND (%s) >= DATE '%s'", expr, first.AddDate(0, -back, 0).Format(time.DateOnly))
		}
		v := fmt.Sprintf("CREATE TEMP VIEW %s AS SELECT * FROM %s.%s WHERE %s", in, live, in, cond)
		if _, err := conn.ExecContext(ctx, v); err != nil {
			return "", fmt.Errorf("%s: %w", v, err)
		}
	}
	return fmt.Sprintf("SELECT * FROM (\n%s\n) WHERE (%s) = DATE '%s'", query, m.Month, first.Format(time.DateOnly)), nil
}
