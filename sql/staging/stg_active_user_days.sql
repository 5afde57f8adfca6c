-- stg_active_user_days: the user-days with at least one usage event, for
-- customers known that month, with the salesperson of the user's customer in
-- that month. A user active for two customers on one day has two rows:
-- count users with count(DISTINCT user_key).
-- @month: month
SELECT
    d.day,
    date_trunc('month', d.day)::DATE AS month,
    d.user_key,
    cm.salesperson
FROM stg_user_days d
JOIN stg_customer_months cm
  ON cm.customer_ref = d.customer_ref AND cm.month = date_trunc('month', d.day)
WHERE d.usage_count > 0
