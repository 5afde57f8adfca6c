-- stg_customer_users: users and active users per customer and month.
--   users: created by the month's end (or creation unknown) and not
--          deactivated by the month's end.
--   active_users: those users with at least one usage event in the month.
-- The customer of a user is the one in the users export.
-- @month: month
-- A users snapshot changes the users models, which every month reads; the
-- months whose rows stay the same leave their readers as they were:
-- @cutoff: content
WITH deltas AS (
    -- a user counts from the month it was created until the month it was
    -- deactivated; one deactivated before it was created (an export that
    -- contradicts itself, or a snapshot dated before the user's creation
    -- that lists it archived) counts in no month, never as -1
    SELECT customer_ref, date_trunc('month', coalesce(created_at, DATE '0001-01-01'))::DATE AS month, 1 AS delta FROM stg_users
    UNION ALL
    SELECT customer_ref, date_trunc('month', greatest(deactivated_at, created_at))::DATE, -1 FROM stg_users WHERE deactivated_at IS NOT NULL
),
running AS (
    SELECT customer_ref, month, sum(sum(delta)) OVER (PARTITION BY customer_ref ORDER BY month) AS users
    FROM deltas
    GROUP BY customer_ref, month
),
active AS (
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
ASOF LEFT JOIN running r ON r.customer_ref = cm.customer_ref AND r.month <= cm.month
LEFT JOIN active a ON a.customer_ref = cm.customer_ref AND a.month = cm.month
