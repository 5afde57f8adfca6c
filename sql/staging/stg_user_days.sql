-- stg_user_days: one row per user, customer and day with activity: the one
-- scan of raw_activity every user-level KPI reads from.
--   score_count: events counted in the activity score (kpi.score_events)
--   usage_count: events that make the user active (kpi.usage_events; all when empty)
-- The customer is the activity row's, else the user's in the users export.
-- Activity of excluded customers or users is dropped. The activity is
-- aggregated first (10 M rows → a few million user-days), then joined.
WITH user_lookup AS (
    -- one row per user known to a users export: its latest customer, and
    -- whether it is an internal or test account
    SELECT
        user_id,
        arg_max(customer_ref, snapshot_date) AS customer_ref,
        bool_or(list_contains(getvariable('exclude_email_domains'), coalesce(email_domain, ''))) AS excluded
    FROM raw_users
    GROUP BY user_id
),
user_days AS (
    SELECT
        day,
        customer_ref,
        user_id,
        sum(count) FILTER (WHERE list_contains(getvariable('score_events'), event)) AS score_count,
        sum(count) FILTER (WHERE len(getvariable('usage_events')) = 0 OR list_contains(getvariable('usage_events'), event)) AS usage_count
    FROM raw_activity
    WHERE day < getvariable('as_of')
    GROUP BY ALL
)
SELECT
    a.day,
    coalesce(a.customer_ref, u.customer_ref) AS customer_ref,
    a.user_id,
    a.score_count,
    a.usage_count
FROM user_days a
LEFT JOIN user_lookup u USING (user_id)
WHERE NOT coalesce(u.excluded, false)
  AND NOT list_contains(getvariable('exclude_customers'), coalesce(a.customer_ref, u.customer_ref, ''))
