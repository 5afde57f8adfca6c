-- stg_customer_users: users and active users per customer and month.
--   users: created by the month's end (or creation unknown) and not
--          deactivated by the month's end (stg_customer_user_counts).
--   active_users: those users with at least one usage event in the month.
-- The customer of a user is the one in the users export.
-- @month: month
-- A users snapshot changes the users models, which every month reads; the
-- months whose rows stay the same leave their readers as they were:
-- @cutoff: content
WITH active AS (
    SELECT a.month, u.customer_ref, count(*) AS active_users
    FROM stg_user_months a
    JOIN stg_users u USING (user_key)
    WHERE coalesce(u.created_at, DATE '0001-01-01') <= a.month + INTERVAL 1 MONTH - INTERVAL 1 DAY
      AND coalesce(u.deactivated_at, DATE '9999-12-31') > a.month + INTERVAL 1 MONTH - INTERVAL 1 DAY
    GROUP BY ALL
)
SELECT
    cm.month,
    cm.customer_ref,
    coalesce(r.users, 0)::BIGINT AS users,
    coalesce(a.active_users, 0) AS active_users
FROM stg_customer_months cm
ASOF LEFT JOIN stg_customer_user_counts r ON r.customer_ref = cm.customer_ref AND r.month <= cm.month
LEFT JOIN active a ON a.customer_ref = cm.customer_ref AND a.month = cm.month
