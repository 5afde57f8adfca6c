-- stg_active_user_days: one row per user, day and salesperson on which the
-- user had at least one usage event, for customers known that month. The
-- salesperson is the one of the user's customer in that month.
SELECT DISTINCT
    d.day,
    date_trunc('month', d.day)::DATE AS month,
    d.user_id,
    cm.salesperson
FROM stg_user_days d
JOIN stg_customer_months cm
  ON cm.customer_ref = d.customer_ref AND cm.month = date_trunc('month', d.day)
WHERE d.usage_count > 0
