-- int_kpi_monthly: the monthly KPIs for every salesperson and for all
-- customers (salesperson IS NULL), from int_customer_monthly and the activity
-- months: the columns of kpi_overview_monthly and kpi_salesperson_monthly up
-- to published_at, each defined in sql/marts/schema.yml. Every ratio comes
-- with its numerator and denominator.
WITH grouped AS (
    SELECT
        month,
        salesperson,
        count(*) FILTER (WHERE NOT archived) AS customers,
        count(*) FILTER (WHERE activated) AS activated_customers,
        count(*) FILTER (WHERE active) AS active_customers,
        sum(score)::BIGINT AS score,
        count(*) FILTER (WHERE champion) AS champions,
        count(*) FILTER (WHERE churn_risk) AS churn_risks,
        coalesce(sum(users) FILTER (WHERE activated), 0)::BIGINT AS users,
        coalesce(sum(active_users) FILTER (WHERE activated), 0)::BIGINT AS active_users,
        count(*) FILTER (WHERE license_utilization IS NOT NULL) AS customers_with_seats,
        coalesce(sum(seats) FILTER (WHERE license_utilization IS NOT NULL), 0)::BIGINT AS seats,
        coalesce(sum(active_users) FILTER (WHERE license_utilization IS NOT NULL), 0)::BIGINT AS seat_active_users,
        avg(license_utilization) AS avg_license_utilization,
        count(*) FILTER (WHERE low_utilization) AS low_utilization_customers,
        count(*) FILTER (WHERE utilization_increasing) AS utilization_increasing_customers
    FROM int_customer_monthly
    GROUP BY GROUPING SETS ((month, salesperson), (month))
)
SELECT
    g.month,
    g.salesperson,
    m.complete,
    g.customers,
    g.activated_customers,
    g.active_customers,
    g.active_customers / nullif(g.activated_customers, 0) AS monthly_active_rate,
    g.score,
    g.prev_score,
    CASE WHEN m.complete THEN (g.score - g.prev_score) / nullif(g.prev_score, 0) END AS score_mom,
    g.champions,
    g.churn_risks,
    g.users,
    g.active_users,
    g.active_users / nullif(g.users, 0) AS usage_pct,
    g.customers_with_seats,
    g.seats,
    g.seat_active_users,
    g.seat_active_users / nullif(g.seats, 0) AS license_utilization,
    g.avg_license_utilization,
    g.low_utilization_customers,
    g.utilization_increasing_customers,
    coalesce(a.avg_dau, 0) AS avg_dau,
    coalesce(a.mau, 0) AS mau,
    a.avg_dau / nullif(a.mau, 0) AS dau_mau
FROM (
    SELECT *,
        CASE WHEN lag(month) OVER w = month - INTERVAL 1 MONTH THEN lag(score) OVER w END AS prev_score
    FROM grouped
    WINDOW w AS (PARTITION BY salesperson ORDER BY month)
) g
JOIN stg_months m USING (month)
LEFT JOIN stg_activity_months a
  ON a.month = g.month AND a.salesperson IS NOT DISTINCT FROM g.salesperson
