-- stg_customer_users: users and active users per customer and month.
--   users: created by the month's end (or creation unknown) and not
--          deactivated by the month's end.
--   active_users: those users with at least one usage event in the month.
-- The customer of a user is the one in the users export.
WITH user_months AS (
    SELECT m.month, u.customer_ref, u.user_id
    FROM stg_months m
    JOIN stg_users u
      ON coalesce(u.created_at, DATE '0001-01-01') <= m.month_end
     AND coalesce(u.deactivated_at, DATE '9999-12-31') > m.month_end
),
active AS (
    SELECT DISTINCT date_trunc('month', day)::DATE AS month, user_id
    FROM stg_user_days WHERE usage_count > 0
)
SELECT
    um.month,
    um.customer_ref,
    count(*) AS users,
    count(a.user_id) AS active_users
FROM user_months um
LEFT JOIN active a USING (month, user_id)
GROUP BY ALL
