package etl

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Headline is the latest complete month of kpi_overview_monthly, for the
// run summary. Values are read as computed by sql/.
type Headline struct {
	Month                   time.Time
	ActiveCustomers         int64
	ActivatedCustomers      int64
	MonthlyActiveRate       sql.NullFloat64
	ScoreMoM                sql.NullFloat64
	Users                   int64
	ActiveUsers             int64
	UsagePct                sql.NullFloat64
	LicenseUtilization      sql.NullFloat64
	LowUtilizationCustomers int64
	DAUMAU                  sql.NullFloat64
	Champions               int64
	ChurnRisks              int64
}

func headline(ctx context.Context, conn *sql.Conn) (*Headline, error) {
	var h Headline
	err := conn.QueryRowContext(ctx, `SELECT month, active_customers, activated_customers, monthly_active_rate, score_mom,
		users, active_users, usage_pct, license_utilization, low_utilization_customers, dau_mau, champions, churn_risks
		FROM kpi_overview_monthly WHERE complete ORDER BY month DESC LIMIT 1`).Scan(
		&h.Month, &h.ActiveCustomers, &h.ActivatedCustomers, &h.MonthlyActiveRate, &h.ScoreMoM,
		&h.Users, &h.ActiveUsers, &h.UsagePct, &h.LicenseUtilization, &h.LowUtilizationCustomers, &h.DAUMAU, &h.Champions, &h.ChurnRisks)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("headline: %w", err)
	}
	return &h, nil
}

// Excluded counts the accounts dropped by the config's exclude: lists.
type Excluded struct {
	Customers int64
	Users     int64
}

func excluded(ctx context.Context, conn *sql.Conn) (Excluded, error) {
	var e Excluded
	if err := conn.QueryRowContext(ctx, `SELECT customers, users FROM stg_excluded`).Scan(&e.Customers, &e.Users); err != nil {
		return e, fmt.Errorf("excluded: %w", err)
	}
	return e, nil
}
