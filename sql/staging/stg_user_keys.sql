-- stg_user_keys: one row per user known to a users export, with an integer
-- key (joins, distinct counts and windows on integers are several times
-- faster than on text ids), its latest customer, whether it is an
-- internal or test account in its latest snapshot (exclude.email_domains,
-- exclude.customers), and the date of that snapshot. The key is a hash of
-- the id, 0 or more (a user missing from the users export gets a negative
-- one, in stg_user_days), so the same user has the same key in every run
-- (what models kept from one run to the next need). Two ids with one key
-- fail the run rather than merge two users
-- (sql/tests/test_user_keys_unique.sql); the odds are about 1 in 10^7 with
-- a million users, 1 in 10^5 with ten million.
-- The latest snapshot of each user first, then its row there: over months
-- of snapshots, a max of dates and a join cost a fraction of an arg_max of
-- each column (a snapshot lists a user once; arg_max_null keeps a NULL of
-- the latest snapshot, unlike arg_max).
WITH latest AS (
    SELECT user_id, max(snapshot_date) AS snapshot_date
    FROM raw_users
    WHERE snapshot_date <= getvariable('users_as_of')
    GROUP BY user_id
)
SELECT
    user_id,
    (hash(user_id) >> 1)::BIGINT AS user_key,
    arg_max_null(customer_ref, snapshot_date) AS customer_ref,
    list_contains(getvariable('exclude_email_domains'), coalesce(arg_max_null(email_domain, snapshot_date), ''))
        OR list_contains(getvariable('exclude_customers'), coalesce(arg_max_null(customer_ref, snapshot_date), '')) AS excluded,
    max(snapshot_date) AS snapshot_date
FROM raw_users
JOIN latest USING (user_id, snapshot_date)
GROUP BY user_id
