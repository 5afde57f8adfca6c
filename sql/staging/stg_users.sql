-- stg_users: one row per user, from the latest users snapshot that lists it.
-- An archived user without a deactivation date counts as deactivated from the
-- first snapshot that shows it archived (unless a later snapshot shows it
-- active again). Users of excluded customers or with
-- an excluded e-mail domain are dropped.
WITH latest AS (
    SELECT * FROM raw_users
    QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY snapshot_date DESC) = 1
),
first_archived AS (
    SELECT user_id, min(snapshot_date) AS archived_since
    FROM raw_users WHERE archived GROUP BY user_id
)
SELECT
    l.user_id,
    k.user_key,
    l.customer_ref,
    l.email_domain,
    l.created_at,
    l.activated_at,
    -- the archive date only while the latest snapshot still shows the user archived
    coalesce(l.deactivated_at, CASE WHEN l.archived THEN f.archived_since END) AS deactivated_at
FROM latest l
JOIN stg_user_keys k USING (user_id)
LEFT JOIN first_archived f USING (user_id)
WHERE NOT k.excluded
