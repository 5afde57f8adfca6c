// Command bare is the anchor of uptake's benchmark: the core KPIs
// (customer × month score and distinct users, DAU, MAU, DAU/MAU) as plain
// SQL over the bench's activity files in bare DuckDB, written as Parquet,
// with the same duckdb-go version and thread count as uptake. bench/run
// times it against `uptake run` on the same files. Usage, from the repo root:
//
//	go run ./bench/bare INPUT_DIR OUT_DIR [THREADS]
package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	if len(os.Args) < 3 || len(os.Args) > 4 {
		fmt.Fprintln(os.Stderr, "usage: bare INPUT_DIR OUT_DIR [THREADS]")
		os.Exit(2)
	}
	threads := 2
	if len(os.Args) == 4 {
		n, err := strconv.Atoi(os.Args[3])
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "bare: THREADS must be a positive number")
			os.Exit(2)
		}
		threads = n
	}
	t0 := time.Now()
	if err := run(context.Background(), os.Args[1], os.Args[2], threads); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
	fmt.Printf("bare DuckDB core KPIs: %.2f s\n", time.Since(t0).Seconds())
}

// run reads the activity files once and writes the core KPIs.
func run(ctx context.Context, input, out string, threads int) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	activity := q(filepath.Join(input, "activity_*.csv"))
	statements := []string{
		fmt.Sprintf("SET threads = %d", threads),
		`CREATE TABLE activity AS SELECT "date" AS day, user_id, customer_reference AS customer_ref, event, "count"
		 FROM read_csv(` + activity + `, header = true,
		   columns = {'date': 'DATE', 'user_id': 'VARCHAR', 'customer_reference': 'VARCHAR', 'event': 'VARCHAR', 'count': 'BIGINT'})`,
		`COPY (SELECT date_trunc('month', day)::DATE AS month, customer_ref, sum("count") AS score, count(DISTINCT user_id) AS active_users
		 FROM activity GROUP BY ALL) TO ` + q(filepath.Join(out, "customer_monthly.parquet")) + ` (FORMAT parquet)`,
		`CREATE TABLE daily AS SELECT day, count(DISTINCT user_id) AS dau FROM activity GROUP BY ALL`,
		`COPY daily TO ` + q(filepath.Join(out, "kpi_daily.parquet")) + ` (FORMAT parquet)`,
		`COPY (WITH mau AS (SELECT date_trunc('month', day)::DATE AS month, count(DISTINCT user_id) AS mau FROM activity GROUP BY ALL)
		 SELECT m.month, avg(d.dau) AS avg_dau, m.mau, avg(d.dau) / m.mau AS dau_mau
		 FROM daily d JOIN mau m ON date_trunc('month', d.day)::DATE = m.month GROUP BY m.month, m.mau ORDER BY m.month)
		 TO ` + q(filepath.Join(out, "kpi_monthly.parquet")) + ` (FORMAT parquet)`,
	}
	for _, s := range statements {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(s)[0], err)
		}
	}
	return nil
}
