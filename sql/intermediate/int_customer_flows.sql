-- int_customer_flows: how each customer changed during a complete month
-- (grain: month × customer_ref), the flags int_kpi_flows counts into the rates
-- of change (defined in sql/marts/schema.yml: customers_to_activate counts
-- to_activate, and so on). One row per customer of the month, credited to the
-- month's salesperson, and per customer of the month before that is gone from
-- the month's export (deleted, not archived), credited to last month's
-- salesperson: a deletion is a churn, never a silent improvement. Its state at
-- the start is its row of the previous month. The first reported month (no
-- start) and the month to date have no rows.
-- Built month by month: a month reads itself and the month before.
-- @month: month
-- @lookback: int_customer_monthly 1, stg_months 1
WITH cm AS (
    SELECT month, customer_ref, salesperson, archived, activated, active, created_month, users
    FROM int_customer_monthly
),
keys AS (
    -- the complete months' customers, and last month's customers gone since
    SELECT m.month, c.customer_ref
    FROM stg_months m JOIN cm c ON c.month = m.month
    WHERE m.complete
    UNION
    SELECT m.month, p.customer_ref
    FROM stg_months m JOIN cm p ON p.month = (m.month - INTERVAL 1 MONTH)::DATE
    WHERE m.complete
)
SELECT
    k.month,
    k.customer_ref,
    coalesce(c.salesperson, p.salesperson) AS salesperson,
    coalesce(NOT p.archived AND NOT p.activated, false) OR coalesce(c.created_month = c.month, false) AS to_activate,
    (coalesce(NOT p.archived AND NOT p.activated, false) OR coalesce(c.created_month = c.month, false)) AND coalesce(c.activated, false) AS newly_activated,
    coalesce(p.activated, false) AS activated_at_start,
    coalesce(p.activated AND NOT c.archived AND NOT c.activated, false) AS deactivated,
    coalesce(p.activated AND (c.archived OR c.customer_ref IS NULL), false) AS churned,
    c.customer_ref IS NULL AS gone,
    coalesce(p.active, false) AS active_at_start,
    coalesce(p.active AND c.active, false) AS retained,
    CASE WHEN c.customer_ref IS NOT NULL THEN coalesce(u.new_users, 0) ELSE 0 END::BIGINT AS new_users,
    CASE WHEN c.customer_ref IS NOT NULL THEN coalesce(u.new_users_logged_in, 0) ELSE 0 END::BIGINT AS new_users_logged_in,
    CASE WHEN p.activated THEN p.users ELSE 0 END::BIGINT AS users_at_start,
    CASE WHEN p.activated THEN coalesce(u.deactivated_users, 0) ELSE 0 END::BIGINT AS deactivated_users
FROM keys k
JOIN stg_months pm ON pm.month = (k.month - INTERVAL 1 MONTH)::DATE
LEFT JOIN cm c ON c.month = k.month AND c.customer_ref = k.customer_ref
LEFT JOIN cm p ON p.month = pm.month AND p.customer_ref = k.customer_ref
LEFT JOIN stg_customer_user_flows u ON u.customer_ref = k.customer_ref AND u.month = k.month
