-- Every complete month has its establishments export (activity alone does not
-- say which customers exist, are archived or have portal access).
SELECT strftime(month, '%Y-%m') AS month_without_establishments_export
FROM stg_months
WHERE complete AND month NOT IN (SELECT DISTINCT month FROM raw_customers)
