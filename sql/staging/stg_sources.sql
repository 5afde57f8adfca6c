-- stg_sources: what the run's inputs hold, in one row: a users export as of
-- the run (has_users) and an order source other than GA4 (has_orders). A
-- model of its own, read by int_customer_monthly: a users snapshot changes
-- stg_users, but not these, and the months of int_customer_monthly are then
-- kept.
SELECT
    EXISTS (SELECT 1 FROM stg_users) AS has_users,
    EXISTS (SELECT 1 FROM stg_customer_orders) AS has_orders
