-- stg_weekly_customer_weeks: one row per customer and reported ISO week
-- (stg_weekly_weeks) in which the customer is active: at least one usage
-- event (kpi.usage_events; every event when empty) on a day of the week,
-- from the user-level activity (stg_user_days, which drops excluded users and
-- customers) and the customer-level activity (raw_customer_activity: the
-- GA4 Data API). Days are already in the configured time zone.
--   week            the week's Monday
--   month           the month of the week's Sunday (the week's credit month)
--   active_4_weeks  also active in each of the 3 weeks before: active in each of
--                   the 4 weeks ending with this one (activation is not required
--                   in the earlier weeks: only usage events count there)
WITH active_days AS (
    SELECT customer_ref, day FROM stg_user_days WHERE usage_count > 0
    UNION ALL
    SELECT customer_ref, day
    FROM raw_customer_activity
    WHERE day < getvariable('as_of')
      AND (len(getvariable('usage_events')) = 0 OR list_contains(getvariable('usage_events'), event))
      AND NOT list_contains(getvariable('exclude_customers'), customer_ref)
    GROUP BY customer_ref, day
    HAVING sum(count) > 0
),
customer_weeks AS (
    SELECT DISTINCT customer_ref, date_trunc('week', day)::DATE AS week
    FROM active_days
    WHERE customer_ref IS NOT NULL
)
SELECT
    c.customer_ref,
    c.week,
    w.month,
    -- weeks are distinct per customer: the third active week before this one
    -- is exactly 3 weeks earlier only when the 2 between are active too
    coalesce(lag(c.week, 3) OVER (PARTITION BY c.customer_ref ORDER BY c.week) = c.week - 21, false) AS active_4_weeks
FROM customer_weeks c
JOIN stg_weekly_weeks w USING (week)
