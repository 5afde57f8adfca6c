-- stg_activity_months: monthly active users (distinct users with a usage
-- event in the month) and mean daily active users over the month's days,
-- per salesperson and for all (salesperson IS NULL). The mean divides by
-- every day of the month (days without activity count as 0), or by the days
-- elapsed for the month to date. When the GA4 Data API is the only activity
-- source, the monthly active users for all are GA4's own figure for the
-- calendar month (stg_reported_users), and the mean is over GA4's daily
-- active users (stg_activity_days).
-- @month: month
WITH mau AS (
    -- two plain groupings: over grouping sets, DuckDB counts distinct
    -- users 30 to 50 % slower (bench data)
    SELECT month, salesperson, count(DISTINCT user_key) AS mau
    FROM stg_active_user_days
    GROUP BY month, salesperson
    UNION ALL
    SELECT month, NULL, count(DISTINCT user_key)
    FROM stg_active_user_days
    GROUP BY month
    UNION ALL
    SELECT day AS month, NULL, active_users
    FROM stg_reported_users
    WHERE period = 'month' AND customer_ref IS NULL
),
dau AS (
    SELECT month, salesperson, sum(dau) AS dau_sum FROM stg_activity_days GROUP BY ALL
)
SELECT
    m.month,
    mau.salesperson,
    mau.mau,
    dau.dau_sum / nullif(m.days_elapsed, 0) AS avg_dau
FROM stg_months m
JOIN mau ON mau.month = m.month
LEFT JOIN dau ON dau.month = m.month AND dau.salesperson IS NOT DISTINCT FROM mau.salesperson
