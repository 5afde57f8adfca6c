-- stg_users: one row per user, from the latest users snapshot that lists it
-- (snapshots dated after the run's as-of date are ignored: users_as_of is
-- the latest snapshot on or before it, which keeps this model unchanged
-- from one night to the next until a snapshot arrives).
-- A user counts as deactivated from:
--   its deactivation date, when the export has one;
--   else, when its latest snapshot shows it archived, the first snapshot of
--   that archived stretch;
--   else, when the latest snapshot no longer lists it (deleted on the
--   platform), the first snapshot without it.
-- Users of excluded customers or with an excluded e-mail domain are dropped.
WITH snapshots AS (
    SELECT * FROM raw_users WHERE snapshot_date <= getvariable('users_as_of')
),
snapshot_dates AS (
    SELECT DISTINCT snapshot_date FROM snapshots
),
latest AS (
    -- each user's row in its latest snapshot (arg_max_null: a hash aggregate, no
    -- sort; unlike arg_max it keeps a NULL of the latest snapshot)
    SELECT
        user_id,
        max(snapshot_date) AS snapshot_date,
        arg_max_null(customer_ref, snapshot_date) AS customer_ref,
        arg_max_null(email_domain, snapshot_date) AS email_domain,
        arg_max_null(created_at, snapshot_date) AS created_at,
        arg_max_null(activated_at, snapshot_date) AS activated_at,
        arg_max_null(deactivated_at, snapshot_date) AS deactivated_at,
        arg_max_null(archived, snapshot_date) AS archived
    FROM snapshots
    GROUP BY user_id
),
first_archived AS (
    -- the first snapshot of the user's last archived stretch
    SELECT u.user_id, min(u.snapshot_date) AS archived_since
    FROM snapshots u
    LEFT JOIN (SELECT user_id, max(snapshot_date) AS d FROM snapshots WHERE NOT archived GROUP BY user_id) last_active USING (user_id)
    WHERE u.archived AND u.snapshot_date > coalesce(last_active.d, DATE '0001-01-01')
    GROUP BY u.user_id
),
gone AS (
    -- users missing from the latest snapshot: the first snapshot after their last one
    SELECT l.user_id, min(d.snapshot_date) AS gone_since
    FROM latest l
    JOIN snapshot_dates d ON d.snapshot_date > l.snapshot_date
    GROUP BY l.user_id
)
SELECT
    l.user_id,
    k.user_key,
    l.customer_ref,
    l.email_domain,
    l.created_at,
    l.activated_at,
    coalesce(l.deactivated_at, CASE WHEN l.archived THEN f.archived_since END, g.gone_since) AS deactivated_at
FROM latest l
JOIN stg_user_keys k USING (user_id)
LEFT JOIN first_archived f USING (user_id)
LEFT JOIN gone g USING (user_id)
WHERE NOT k.excluded
