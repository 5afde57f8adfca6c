-- kpi_daily: daily active users for all customers (grain: day), with rolling
-- weekly (7 days ending that day) and monthly (30 days ending that day)
-- active users and dau_mau = dau / mau. Days run from the first to the last
-- day with activity; days without activity have dau = 0.
WITH user_days AS (
    SELECT DISTINCT user_id, day FROM stg_active_user_days
),
-- A user active on day d is counted in the rolling window of days d .. d+W-1.
-- Merging each user's overlapping windows into islands turns the rolling
-- distinct count into a running sum of +1 at an island's start and -1 after its end.
gaps AS (
    SELECT user_id, day, datediff('day', lag(day) OVER (PARTITION BY user_id ORDER BY day), day) AS gap
    FROM user_days
),
windows AS (
    SELECT 7 AS w UNION ALL SELECT 30
),
islands AS (
    SELECT w, user_id, day,
        sum(CASE WHEN gap IS NULL OR gap > w THEN 1 ELSE 0 END) OVER (PARTITION BY w, user_id ORDER BY day) AS island
    FROM gaps, windows
),
edges AS (
    SELECT w, min(day) AS day, 1 AS delta FROM islands GROUP BY w, user_id, island
    UNION ALL
    SELECT w, (max(day) + w)::DATE AS day, -1 AS delta FROM islands GROUP BY w, user_id, island
),
days AS (
    SELECT unnest(generate_series((SELECT min(day) FROM user_days), (SELECT max(day) FROM user_days), INTERVAL 1 DAY))::DATE AS day
),
rolling AS (
    SELECT d.day,
        sum(coalesce(e7.delta, 0)) OVER (ORDER BY d.day) AS wau,
        sum(coalesce(e30.delta, 0)) OVER (ORDER BY d.day) AS mau
    FROM days d
    LEFT JOIN (SELECT day, sum(delta) AS delta FROM edges WHERE w = 7 GROUP BY day) e7 USING (day)
    LEFT JOIN (SELECT day, sum(delta) AS delta FROM edges WHERE w = 30 GROUP BY day) e30 USING (day)
)
SELECT
    r.day,
    date_trunc('month', r.day)::DATE AS month,
    coalesce(a.dau, 0)::BIGINT AS dau,
    r.wau::BIGINT AS wau,
    r.mau::BIGINT AS mau,
    coalesce(a.dau, 0) / nullif(r.mau, 0) AS dau_mau,
    getvariable('published_at') AS published_at
FROM rolling r
LEFT JOIN stg_activity_days a ON a.day = r.day AND a.salesperson IS NULL
ORDER BY r.day
