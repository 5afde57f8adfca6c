-- kpi_daily: daily active users for all customers (grain: day), from the
-- first to the last day with activity (int_kpi_daily's figures; a day without
-- a row has dau = 0), or GA4's own daily figures when the GA4 Data API is the
-- only activity source. Columns defined in sql/marts/schema.yml.
WITH active AS (
    SELECT min(day) AS first_day, max(day) AS last_day FROM int_kpi_daily WHERE dau > 0
),
active_days AS (
    -- a day int_kpi_daily lacks (a month neither reported yet nor within
    -- two months of activity) has no user in any of its windows
    SELECT d.day, coalesce(k.dau, 0) AS dau, coalesce(k.wau, 0) AS wau, coalesce(k.mau, 0) AS mau, k.dau_mau
    FROM (SELECT unnest(generate_series(first_day, last_day, INTERVAL 1 DAY))::DATE AS day FROM active) d
    LEFT JOIN int_kpi_daily k USING (day)
),
reported AS (
    SELECT day, active_users AS dau FROM stg_reported_users WHERE period = 'day' AND customer_ref IS NULL
),
reported_days AS (
    SELECT d.day, coalesce(r.dau, 0)::BIGINT AS dau
    FROM (SELECT unnest(generate_series((SELECT min(day) FROM reported), (SELECT max(day) FROM reported), INTERVAL 1 DAY))::DATE AS day) d
    LEFT JOIN reported r USING (day)
),
all_days AS (
    SELECT day, dau, wau, mau, dau_mau FROM active_days
    UNION ALL
    -- GA4's own daily figures (only when no source loads user-level activity)
    SELECT day, dau, NULL, NULL, NULL FROM reported_days
)
SELECT
    day,
    date_trunc('month', day)::DATE AS month,
    dau,
    wau,
    mau,
    dau_mau,
    getvariable('published_at') AS published_at
FROM all_days
ORDER BY day
