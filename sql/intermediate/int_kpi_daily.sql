-- int_kpi_daily: kpi_daily's figures (dau, wau, mau, dau_mau) for every day
-- of each month a run reports (stg_months) and of the two months after each
-- month with activity; kpi_daily keeps the days from the first to the last
-- day with activity (a day of another month has no user in its windows).
-- Built month by month: a day's 30-day window reaches at most two months
-- back (March 1st reads January 31st), so a month reads its own active days
-- and those of the two months before.
-- @month: month
-- @lookback: stg_active_user_days 2
WITH user_days AS (
    SELECT DISTINCT user_key, day FROM stg_active_user_days
),
-- A user active on day d is in the rolling window of days d .. d+W-1. Over a
-- user's active days, the window count rises by one on a day that is more
-- than W days after the user's previous active day, and falls by one W days
-- after a day that is followed by no active day within W days. One pass
-- (lag/lead) gives both for every W; a running sum turns them into counts.
-- Read from two months back, the counts are exact from the month's first
-- day on: the days before it only warm them up.
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
    -- every day from the first month read to the last month reported or
    -- reached by a window (the running sums start there, and count on)
    SELECT unnest(generate_series(
        least((SELECT min(month) FROM stg_months), (SELECT date_trunc('month', min(day))::DATE FROM user_days)),
        greatest((SELECT max(month_end) FROM stg_months),
                 (SELECT (date_trunc('month', max(day)) + INTERVAL 3 MONTH - INTERVAL 1 DAY)::DATE FROM user_days)),
        INTERVAL 1 DAY))::DATE AS day
),
months AS (
    -- the months this model has: the reported ones, and the two after each
    -- month with activity (its windows reach into them)
    SELECT month FROM stg_months
    UNION
    SELECT (a.month + to_months(k))::DATE
    FROM (SELECT DISTINCT date_trunc('month', day) AS month FROM user_days) a, range(3) t(k)
),
daily AS (
    SELECT d.day, sum(c.dau) AS dau, sum(c.in7) - sum(c.out7) AS d7, sum(c.in30) - sum(c.out30) AS d30
    FROM days d LEFT JOIN changes c USING (day)
    GROUP BY d.day
),
running AS (
    SELECT
        day,
        coalesce(dau, 0)::BIGINT AS dau,
        sum(coalesce(d7, 0)) OVER (ORDER BY day)::BIGINT AS wau,
        sum(coalesce(d30, 0)) OVER (ORDER BY day)::BIGINT AS mau
    FROM daily
)
SELECT
    r.day,
    date_trunc('month', r.day)::DATE AS month,
    r.dau,
    r.wau,
    r.mau,
    r.dau / nullif(r.mau, 0) AS dau_mau
FROM running r
WHERE date_trunc('month', r.day)::DATE IN (SELECT month FROM months)
ORDER BY r.day
