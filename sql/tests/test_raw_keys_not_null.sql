-- The raw tables' key columns are never NULL (the contract; the connectors
-- reject such rows).
SELECT 'raw_customers' AS tbl, count(*) AS bad FROM raw_customers
WHERE month IS NULL OR customer_ref IS NULL OR archived IS NULL OR has_portal_access IS NULL
HAVING count(*) > 0
UNION ALL
SELECT 'raw_users', count(*) FROM raw_users WHERE snapshot_date IS NULL OR user_id IS NULL HAVING count(*) > 0
UNION ALL
SELECT 'raw_activity', count(*) FROM raw_activity
WHERE day IS NULL OR user_id IS NULL OR event IS NULL OR count IS NULL OR source IS NULL
HAVING count(*) > 0
UNION ALL
SELECT 'raw_active_users', count(*) FROM raw_active_users
WHERE day IS NULL OR period NOT IN ('day', 'month') OR period IS NULL OR active_users IS NULL OR source IS NULL
HAVING count(*) > 0
