package etl

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// setVariables hands the KPI thresholds and the run's dates to sql/ as
// DuckDB variables, read there with getvariable('name').
// It returns them, name → the value's SQL literal.
func setVariables(ctx context.Context, conn *sql.Conn, cfg *config.Config, asOf, publishedAt time.Time) (map[string]string, error) {
	k := cfg.KPI
	champMin := "NULL::DOUBLE"
	if k.ChampionMinScore != nil {
		champMin = fmt.Sprintf("%g::DOUBLE", *k.ChampionMinScore)
	}
	vars := [][2]string{
		{"as_of", "DATE " + sqltext.Quote(asOf.Format("2006-01-02"))},
		{"published_at", "TIMESTAMP " + sqltext.Quote(publishedAt.UTC().Format("2006-01-02 15:04:05.000000"))},
		{"score_events", list(k.ScoreEvents)},
		{"usage_events", list(k.UsageEvents)},
		{"active_min_score", fmt.Sprintf("%g::DOUBLE", k.ActiveMinScore)},
		{"champion_top_pct", fmt.Sprintf("%g::DOUBLE", k.ChampionTopPct)},
		{"champion_min_score", champMin},
		{"drop_alert_pct", fmt.Sprintf("%g::DOUBLE", k.DropAlertPct)},
		{"low_utilization_pct", fmt.Sprintf("%g::DOUBLE", k.LowUtilizationPct)},
		{"increasing_utilization_pts", fmt.Sprintf("%g::DOUBLE", k.IncreasingUtilizationPts)},
		{"low_engagement_usage_pct", fmt.Sprintf("%g::DOUBLE", k.LowEngagementUsagePct)},
		{"milestone_events", list(k.MilestoneEvents)},
		{"features", features(k.Features)},
		{"exclude_customers", list(cfg.Exclude.Customers)},
		{"exclude_email_domains", list(lower(cfg.Exclude.EmailDomains))},
	}
	set := map[string]string{}
	for _, v := range vars {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET VARIABLE %s = %s", v[0], v[1])); err != nil {
			return nil, fmt.Errorf("set variable %s: %w", v[0], err)
		}
		set[v[0]] = v[1]
	}
	return set, nil
}

func list(items []string) string {
	return "[" + sqltext.Literals(items) + "]::VARCHAR[]"
}

func lower(items []string) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}

// features is kpi.features as a DuckDB list of structs; bit is the
// feature's place in segment codes (1, 2, 4, 8).
func features(fs []config.Feature) string {
	items := make([]string, len(fs))
	for i, f := range fs {
		items[i] = fmt.Sprintf("{'name': %s, 'events': %s, 'min_uses': %d, 'bit': %d}", sqltext.Quote(f.Name), list(f.Events), f.MinUses, 1<<i)
	}
	return "[" + strings.Join(items, ", ") + "]::STRUCT(name VARCHAR, events VARCHAR[], min_uses BIGINT, bit INTEGER)[]"
}

// setUsersAsOf sets users_as_of, once the raw tables are loaded: the date of
// the latest users snapshot on or before the as-of date. The users models
// read the snapshots up to it, which are those up to the as-of date: their
// keys then stay the same from one night to the next until a snapshot
// arrives, and they are kept instead of built again (see monthly.go).
func setUsersAsOf(ctx context.Context, conn *sql.Conn, vars map[string]string) error {
	var d string
	if err := conn.QueryRowContext(ctx, `SELECT strftime(coalesce(max(snapshot_date), DATE '0001-01-01'), '%Y-%m-%d') FROM raw_users
		WHERE snapshot_date <= getvariable('as_of')`).Scan(&d); err != nil {
		return fmt.Errorf("latest users snapshot: %w", err)
	}
	vars["users_as_of"] = "DATE " + sqltext.Quote(d)
	if _, err := conn.ExecContext(ctx, "SET VARIABLE users_as_of = "+vars["users_as_of"]); err != nil {
		return fmt.Errorf("set variable users_as_of: %w", err)
	}
	return nil
}
