-- stg_customer_usage_days: one row per customer and day with at least one
-- usage event (kpi.usage_events; every event when empty), from the user-level
-- activity (stg_user_days, which drops excluded users and customers) and the
-- customer-level activity (raw_customer_activity: the GA4 Data API). Days
-- are already in the configured time zone.
-- @month: date_trunc('month', day)::DATE
SELECT DISTINCT customer_ref, day
FROM (
    SELECT customer_ref, day FROM stg_user_days WHERE usage_count > 0
    UNION ALL
    SELECT customer_ref, day
    FROM raw_customer_activity
    WHERE day < getvariable('as_of')
      AND (len(getvariable('usage_events')) = 0 OR list_contains(getvariable('usage_events'), event))
      AND NOT list_contains(getvariable('exclude_customers'), customer_ref)
    GROUP BY customer_ref, day
    HAVING sum(count) > 0
)
WHERE customer_ref IS NOT NULL
