-- stg_customer_user_counts: each customer's number of users from each month
-- in which it changed: users created by the month's end (or creation
-- unknown) and not deactivated by the month's end (grain: customer × month
-- of a change). A user counts from the month it was created until the
-- month it was deactivated; one deactivated before it was created (an
-- export that contradicts itself, or a snapshot dated before the user's
-- creation that lists it archived) counts in no month, never as -1.
-- A model of its own, read whole by stg_customer_users: it reads the users
-- alone, so a night without a users snapshot keeps it, and builds the
-- month's users per customer from it, not from every user again.
WITH deltas AS (
    SELECT customer_ref, date_trunc('month', coalesce(created_at, DATE '0001-01-01'))::DATE AS month, 1 AS delta FROM stg_users
    UNION ALL
    SELECT customer_ref, date_trunc('month', greatest(deactivated_at, created_at))::DATE, -1 FROM stg_users WHERE deactivated_at IS NOT NULL
)
SELECT customer_ref, month, (sum(sum(delta)) OVER (PARTITION BY customer_ref ORDER BY month))::BIGINT AS users
FROM deltas
GROUP BY customer_ref, month
