-- stg_user_days: one row per user, customer and day with activity
-- (stg_activity_user_days), with the user's key and customer.
--   user_key:    the user's integer key (stg_user_keys), found by the key of
--                its id (id_key: the join is on integers, not on the ids'
--                text); a user missing from the users export gets a negative
--                key derived from the same hash, -1 - (hash(user_id) >> 2)
--   portal_view_count, download_count, share_count, other_score_count,
--   usage_count: as in stg_activity_user_days
-- The customer is the activity row's, else the user's in the users export.
-- Activity of excluded customers or users is dropped.
-- @month: date_trunc('month', day)::DATE
-- A users snapshot changes the users models, which every month reads; the
-- months whose rows stay the same leave their readers as they were:
-- @cutoff: content
SELECT
    a.day,
    coalesce(a.customer_ref, k.customer_ref) AS customer_ref,
    CASE WHEN k.user_key IS NULL THEN -1 - (a.id_key >> 1) ELSE a.id_key END AS user_key,
    a.portal_view_count,
    a.download_count,
    a.share_count,
    a.other_score_count,
    a.usage_count
FROM stg_activity_user_days a
LEFT JOIN stg_user_keys k ON k.user_key = a.id_key
WHERE NOT coalesce(k.excluded, false)
  AND NOT list_contains(getvariable('exclude_customers'), coalesce(a.customer_ref, k.customer_ref, ''))
