-- stg_user_keys: one row per user known to a users export, with an integer
-- key (joins, distinct counts and windows on integers are several times
-- faster than on text ids), its latest customer, whether it is an
-- internal or test account in its latest snapshot (exclude.email_domains,
-- exclude.customers), the date of that snapshot, and the rest of its row
-- there but the e-mail domain, which no model reads past the exclusion
-- (stg_users reads the row here, rather than finding each user's latest
-- row among the snapshots a second time). The key is a hash of
-- the id, 0 or more (a user missing from the users export gets a negative
-- one, in stg_user_days), so the same user has the same key in every run
-- (what models kept from one run to the next need; stg_user_days finds a
-- user's key from the hash of its id, user_hash). Two ids with one key
-- fail the run rather than merge two users
-- (sql/tests/test_user_keys_unique.sql); the odds are about 1 in 10^7 with
-- a million users, 1 in 10^5 with ten million.
-- The latest snapshot of each user first, then its row there: over months
-- of snapshots, a max of dates and a join cost a fraction of an arg_max of
-- each column. A snapshot of one export lists a user once; two exports (two
-- sources) may list it on one date, and then the row with the greatest hash
-- wins, whatever order the rows come in. Those users alone go through the
-- arg_max (arg_max_null keeps a NULL of that row, unlike arg_max): a
-- million users' rows through eight of them cost twice the rest.
WITH latest AS (
    SELECT user_id, max(snapshot_date) AS snapshot_date
    FROM raw_users
    WHERE snapshot_date <= getvariable('users_as_of')
    GROUP BY user_id
),
candidates AS (
    SELECT r.*, hash(r) AS row_hash
    FROM raw_users r
    JOIN latest USING (user_id, snapshot_date)
),
tied AS (
    SELECT user_id FROM candidates GROUP BY user_id HAVING count(*) > 1
),
picked AS (
    SELECT user_id, snapshot_date, customer_ref, email_domain, created_at, activated_at, deactivated_at, archived
    FROM candidates
    ANTI JOIN tied USING (user_id)
    UNION ALL
    SELECT
        user_id,
        max(snapshot_date),
        arg_max_null(customer_ref, row_hash),
        arg_max_null(email_domain, row_hash),
        arg_max_null(created_at, row_hash),
        arg_max_null(activated_at, row_hash),
        arg_max_null(deactivated_at, row_hash),
        arg_max_null(archived, row_hash)
    FROM candidates
    SEMI JOIN tied USING (user_id)
    GROUP BY user_id
)
SELECT
    user_id,
    (hash(user_id) >> 1)::BIGINT AS user_key,
    customer_ref,
    list_contains(getvariable('exclude_email_domains'), coalesce(email_domain, ''))
        OR list_contains(getvariable('exclude_customers'), coalesce(customer_ref, '')) AS excluded,
    snapshot_date,
    created_at,
    activated_at,
    deactivated_at,
    archived
FROM picked
