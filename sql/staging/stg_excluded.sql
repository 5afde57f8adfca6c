-- stg_excluded: how many accounts the config's exclude: lists dropped at
-- staging (one row, for the run summary).
SELECT
    (SELECT count(DISTINCT customer_ref) FROM raw_customers
     WHERE list_contains(getvariable('exclude_customers'), customer_ref)) AS customers,
    (SELECT count(DISTINCT user_id) FROM raw_users
     WHERE list_contains(getvariable('exclude_customers'), coalesce(customer_ref, ''))
        OR list_contains(getvariable('exclude_email_domains'), coalesce(email_domain, ''))) AS users
