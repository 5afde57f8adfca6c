-- stg_weekly_customer_weeks: one row per customer and ISO week in which the
-- customer is active: a usage day (stg_customer_usage_days) in the week.
-- Every such week: the mart keeps the reported ones (stg_weekly_weeks), so
-- that a month of this model reads only its own and the month before.
--   week            the week's Monday
--   month           the month of the week's Sunday (the week's credit month)
--   active_4_weeks  also active in each of the 3 weeks before: active in each of
--                   the 4 weeks ending with this one (activation is not required
--                   in the earlier weeks: only usage events count there)
-- @month: month
-- @lookback: stg_customer_usage_days 1
WITH customer_weeks AS (
    SELECT DISTINCT customer_ref, date_trunc('week', day)::DATE AS week
    FROM stg_customer_usage_days
)
SELECT
    c.customer_ref,
    c.week,
    date_trunc('month', c.week + 6)::DATE AS month,
    -- weeks are distinct per customer: the third active week before this one
    -- is exactly 3 weeks earlier only when the 2 between are active too
    coalesce(lag(c.week, 3) OVER (PARTITION BY c.customer_ref ORDER BY c.week) = c.week - 21, false) AS active_4_weeks
FROM customer_weeks c
