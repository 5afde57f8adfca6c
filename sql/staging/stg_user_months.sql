-- stg_user_months: one row per month and user key with at least one usage
-- event in the month (stg_user_days), whatever the customer. Kept apart from
-- stg_customer_users, which reads it: a users snapshot builds every month of
-- that model again, and the months of user-days it leaves as they were
-- (@cutoff of stg_user_days) leave these as they were, so the night does
-- not find each month's distinct users again.
-- @month: month
SELECT DISTINCT date_trunc('month', day)::DATE AS month, user_key
FROM stg_user_days
WHERE usage_count > 0
