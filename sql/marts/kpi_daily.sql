-- kpi_daily: daily active users for all customers (grain: day), with rolling
-- weekly (7 days ending that day) and monthly (30 days ending that day)
-- active users and dau_mau = dau / mau. Days run from the first to the last
-- day with activity; days without activity have dau = 0.
-- When the GA4 Data API is the only activity source, dau is GA4's own daily
-- active users (stg_reported_users) and wau, mau and dau_mau are NULL: GA4
-- users do not add up across days, and uptake asks GA4 for calendar months
-- (kpi_overview_monthly.mau), not for rolling windows.
WITH user_days AS (
    SELECT DISTINCT user_key, day FROM stg_active_user_days
),
-- A user active on day d is in the rolling window of days d .. d+W-1. Over a
-- user's active days, the window count rises by one on a day that is more
-- than W days after the user's previous active day, and falls by one W days
-- after a day that is followed by no active day within W days. One pass
-- (lag/lead) gives both for every W; a running sum turns them into counts.
gaps AS (
    SELECT
        day,
        datediff('day', lag(day) OVER w, day) AS since_prev,
        datediff('day', day, lead(day) OVER w) AS until_next
    FROM user_days
    WINDOW w AS (PARTITION BY user_key ORDER BY day)
),
changes AS (
    SELECT day,
        count(*) AS dau,
        count(*) FILTER (WHERE since_prev IS NULL OR since_prev > 7) AS in7,
        count(*) FILTER (WHERE since_prev IS NULL OR since_prev > 30) AS in30,
        0 AS out7, 0 AS out30
    FROM gaps GROUP BY day
    UNION ALL
    SELECT (day + 7)::DATE, 0, 0, 0, count(*), 0 FROM gaps WHERE until_next IS NULL OR until_next > 7 GROUP BY 1
    UNION ALL
    SELECT (day + 30)::DATE, 0, 0, 0, 0, count(*) FROM gaps WHERE until_next IS NULL OR until_next > 30 GROUP BY 1
),
days AS (
    SELECT unnest(generate_series((SELECT min(day) FROM user_days), (SELECT max(day) FROM user_days), INTERVAL 1 DAY))::DATE AS day
),
daily AS (
    SELECT d.day, sum(c.dau) AS dau, sum(c.in7) - sum(c.out7) AS d7, sum(c.in30) - sum(c.out30) AS d30
    FROM days d LEFT JOIN changes c USING (day)
    GROUP BY d.day
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
    SELECT
        day,
        coalesce(dau, 0)::BIGINT AS dau,
        sum(coalesce(d7, 0)) OVER (ORDER BY day)::BIGINT AS wau,
        sum(coalesce(d30, 0)) OVER (ORDER BY day)::BIGINT AS mau,
        coalesce(dau, 0) / nullif(sum(coalesce(d30, 0)) OVER (ORDER BY day), 0) AS dau_mau
    FROM daily
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
