-- stg_user_keys: one row per user known to a users export, with an integer
-- key (joins, distinct counts and windows on integers are several times
-- faster than on text ids), its latest customer, and whether it is an
-- internal or test account in its latest snapshot (exclude.email_domains,
-- exclude.customers).
SELECT
    user_id,
    row_number() OVER () AS user_key,
    arg_max_null(customer_ref, snapshot_date) AS customer_ref,
    list_contains(getvariable('exclude_email_domains'), coalesce(arg_max_null(email_domain, snapshot_date), ''))
        OR list_contains(getvariable('exclude_customers'), coalesce(arg_max_null(customer_ref, snapshot_date), '')) AS excluded
FROM raw_users
WHERE snapshot_date <= getvariable('as_of')
GROUP BY user_id
