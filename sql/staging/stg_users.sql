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
-- A user is named by its key: its id is stg_user_keys' (join on user_key).
-- Storing a million ids' text a second time took half of this model's build.
-- Each CTE reads raw_users where it needs it (a users history of many
-- months is not copied into one), and the rows that matter alone: each
-- user's row in its latest snapshot is stg_user_keys' (of two exports
-- listing the user that day, the row with the greatest hash), the archived
-- stretches are looked for among the users archived in it, the first
-- snapshot without a user among the users missing from the latest one.
WITH snapshots AS NOT MATERIALIZED (
    SELECT * FROM raw_users WHERE snapshot_date <= getvariable('users_as_of')
),
first_archived AS (
    -- the first snapshot of the user's last archived stretch, for the users
    -- archived in their latest snapshot
    SELECT u.user_id, min(u.snapshot_date) AS archived_since
    FROM snapshots u
    SEMI JOIN (SELECT user_id FROM stg_user_keys WHERE archived) a USING (user_id)
    LEFT JOIN (
        SELECT user_id, max(snapshot_date) AS d
        FROM snapshots
        SEMI JOIN (SELECT user_id FROM stg_user_keys WHERE archived) a USING (user_id)
        WHERE NOT archived
        GROUP BY user_id
    ) last_active USING (user_id)
    WHERE u.archived AND u.snapshot_date > coalesce(last_active.d, DATE '0001-01-01')
    GROUP BY u.user_id
),
gone AS (
    -- users missing from the latest snapshot: the first snapshot after their last one
    SELECT l.user_id, min(d.snapshot_date) AS gone_since
    FROM (SELECT * FROM stg_user_keys WHERE snapshot_date < (SELECT max(snapshot_date) FROM stg_user_keys)) l
    JOIN (SELECT DISTINCT snapshot_date FROM snapshots) d ON d.snapshot_date > l.snapshot_date
    GROUP BY l.user_id
)
SELECT
    l.user_key,
    l.customer_ref,
    l.created_at,
    l.activated_at,
    coalesce(l.deactivated_at, CASE WHEN l.archived THEN f.archived_since END, g.gone_since) AS deactivated_at
FROM stg_user_keys l
LEFT JOIN first_archived f USING (user_id)
LEFT JOIN gone g USING (user_id)
WHERE NOT l.excluded
