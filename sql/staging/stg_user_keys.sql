-- stg_user_keys: one row per user known to a users export, with an integer
-- key (joins, distinct counts and windows on integers are several times
-- faster than on text ids), its latest customer, whether it is an
-- internal or test account in its latest snapshot (exclude.email_domains,
-- exclude.customers), the date of that snapshot, and the rest of its row
-- there (stg_users reads it here, rather than finding each user's latest
-- row among the snapshots a second time). The key is a hash of
-- the id, 0 or more (a user missing from the users export gets a negative
-- one, in stg_user_days), so the same user has the same key in every run
-- (what models kept from one run to the next need). Two ids with one key
-- fail the run rather than merge two users
-- (sql/tests/test_user_keys_unique.sql); the odds are about 1 in 10^7 with
-- a million users, 1 in 10^5 with ten million.
-- The latest snapshot of each user first, then its row there: over months
-- of snapshots, a max of dates and a join cost a fraction of an arg_max of
-- each column. A snapshot of one export lists a user once; two exports (two
-- sources) may list it on one date, and then the row with the greatest hash
-- wins, whatever order the rows come in (stg_users picks the same one).
-- arg_max_null keeps a NULL of that row, unlike arg_max.
WITH latest AS (
    SELECT user_id, max(snapshot_date) AS snapshot_date
    FROM raw_users
    WHERE snapshot_date <= getvariable('users_as_of')
    GROUP BY user_id
)
SELECT
    user_id,
    (hash(user_id) >> 1)::BIGINT AS user_key,
    arg_max_null(r.customer_ref, hash(r)) AS customer_ref,
    list_contains(getvariable('exclude_email_domains'), coalesce(arg_max_null(r.email_domain, hash(r)), ''))
        OR list_contains(getvariable('exclude_customers'), coalesce(arg_max_null(r.customer_ref, hash(r)), '')) AS excluded,
    max(snapshot_date) AS snapshot_date,
    arg_max_null(r.email_domain, hash(r)) AS email_domain,
    arg_max_null(r.created_at, hash(r)) AS created_at,
    arg_max_null(r.activated_at, hash(r)) AS activated_at,
    arg_max_null(r.deactivated_at, hash(r)) AS deactivated_at,
    arg_max_null(r.archived, hash(r)) AS archived
FROM raw_users r
JOIN latest USING (user_id, snapshot_date)
GROUP BY user_id
