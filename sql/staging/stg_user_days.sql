-- stg_user_days: one row per user, customer and day with activity: the one
-- scan of raw_activity every user-level KPI reads from.
--   user_key:    the user's integer key (stg_user_keys); a user missing from
--                the users export gets a negative key derived from its id
--   portal_view_count, download_count, share_count: those events, when they
--                are score events (kpi.score_events): the establishments export
--                counts them too, and its counts win when it has them
--   other_score_count: the other score events (the export does not count them)
--   usage_count: events that make the user active (kpi.usage_events; all when empty)
-- The customer is the activity row's, else the user's in the users export.
-- Activity of excluded customers or users is dropped. The activity is
-- aggregated first (10 M rows → a few million user-days), then joined.
-- Sums are cast back to BIGINT: DuckDB sums BIGINT into HUGEINT, which is
-- several times slower to store and scan.
-- @month: date_trunc('month', day)::DATE
-- A users snapshot changes the users models, which every month reads; the
-- months whose rows stay the same leave their readers as they were:
-- @cutoff: content
WITH user_days AS (
    SELECT
        day,
        customer_ref,
        user_id,
        sum(count) FILTER (WHERE event = 'portal_view' AND list_contains(getvariable('score_events'), event))::BIGINT AS portal_view_count,
        sum(count) FILTER (WHERE event = 'download' AND list_contains(getvariable('score_events'), event))::BIGINT AS download_count,
        sum(count) FILTER (WHERE event = 'share' AND list_contains(getvariable('score_events'), event))::BIGINT AS share_count,
        sum(count) FILTER (WHERE list_contains(getvariable('score_events'), event)
                           AND event NOT IN ('portal_view', 'download', 'share'))::BIGINT AS other_score_count,
        sum(count) FILTER (WHERE len(getvariable('usage_events')) = 0 OR list_contains(getvariable('usage_events'), event))::BIGINT AS usage_count
    FROM raw_activity
    WHERE day < getvariable('as_of')
    GROUP BY ALL
)
SELECT
    a.day,
    coalesce(a.customer_ref, k.customer_ref) AS customer_ref,
    coalesce(k.user_key, -1 - (hash(a.user_id) >> 2)::BIGINT) AS user_key,
    a.portal_view_count,
    a.download_count,
    a.share_count,
    a.other_score_count,
    a.usage_count
FROM user_days a
LEFT JOIN stg_user_keys k USING (user_id)
WHERE NOT coalesce(k.excluded, false)
  AND NOT list_contains(getvariable('exclude_customers'), coalesce(a.customer_ref, k.customer_ref, ''))
