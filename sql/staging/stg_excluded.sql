-- stg_excluded: how many accounts the config's exclude: lists dropped at
-- staging (one row, for the run summary).
SELECT
    (SELECT count(DISTINCT customer_ref) FROM raw_customers
     WHERE list_contains(getvariable('exclude_customers'), customer_ref)) AS customers,
    (SELECT count(*) FROM stg_user_keys WHERE excluded) AS users
