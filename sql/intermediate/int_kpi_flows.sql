-- int_kpi_flows: the month's rates of change for every salesperson and for
-- all customers (salesperson IS NULL), each with its numerator and
-- denominator, from int_customer_flows: the columns kpi_overview_monthly and
-- kpi_salesperson_monthly publish after published_at, each defined in
-- sql/marts/schema.yml. NULL when the denominator is 0, for the first reported
-- month (no start to compare with) and for the month to date.
WITH flows AS (
    SELECT
        month,
        salesperson,
        count(*) FILTER (WHERE to_activate) AS customers_to_activate,
        count(*) FILTER (WHERE newly_activated) AS newly_activated_customers,
        count(*) FILTER (WHERE activated_at_start) AS activated_at_start,
        count(*) FILTER (WHERE deactivated) AS deactivated_customers,
        count(*) FILTER (WHERE churned) AS churned_customers,
        count(*) FILTER (WHERE gone) AS gone_customers,
        count(*) FILTER (WHERE active_at_start) AS prev_active_customers,
        count(*) FILTER (WHERE retained) AS retained_active_customers,
        sum(new_users)::BIGINT AS new_users,
        sum(new_users_logged_in)::BIGINT AS new_users_logged_in,
        sum(users_at_start)::BIGINT AS users_at_start,
        sum(deactivated_users)::BIGINT AS deactivated_users
    FROM int_customer_flows
    GROUP BY GROUPING SETS ((month, salesperson), (month))
),
prev AS (
    -- the same scope's row of the month before, when there is one (and the
    -- month is complete)
    SELECT
        month,
        salesperson,
        complete AND lag(month) OVER w = month - INTERVAL 1 MONTH AS has_prev,
        lag(seats) OVER w AS last_seats,
        lag(seat_active_users) OVER w AS last_seat_active_users,
        lag(license_utilization) OVER w AS last_utilization
    FROM int_kpi_monthly
    WINDOW w AS (PARTITION BY salesperson ORDER BY month)
),
flags AS (
    SELECT
        month,
        salesperson,
        count(*) FILTER (WHERE low_engagement) AS low_engagement_customers,
        count(*) FILTER (WHERE lost_active_users) AS lost_active_users_customers,
        count(*) FILTER (WHERE adoption_stage = 'setup') AS setup_customers,
        count(*) FILTER (WHERE adoption_stage = 'discovery') AS discovery_customers,
        CASE WHEN len(getvariable('milestone_events')) > 0 THEN count(*) FILTER (WHERE adoption_stage = 'activation') END AS activation_stage_customers,
        sum(orders)::BIGINT AS orders,
        sum(web_orders)::BIGINT AS web_orders
    FROM int_customer_monthly
    GROUP BY GROUPING SETS ((month, salesperson), (month))
)
SELECT
    k.month,
    k.salesperson,
    f.customers_to_activate,
    f.newly_activated_customers,
    f.newly_activated_customers / nullif(f.customers_to_activate, 0) AS customer_activation_rate,
    f.activated_at_start,
    f.deactivated_customers,
    f.deactivated_customers / nullif(f.activated_at_start, 0) AS customer_deactivation_rate,
    f.churned_customers,
    f.churned_customers / nullif(f.activated_at_start, 0) AS churn_rate,
    f.prev_active_customers,
    f.retained_active_customers,
    f.retained_active_customers / nullif(f.prev_active_customers, 0) AS usage_retention,
    f.new_users,
    f.new_users_logged_in,
    f.new_users_logged_in / nullif(f.new_users, 0) AS user_activation_rate,
    f.users_at_start,
    f.deactivated_users,
    f.deactivated_users / nullif(f.users_at_start, 0) AS user_deactivation_rate,
    -- pooled utilization of the same scope last month (with its numerator and
    -- denominator), and the change in points; not for the month to date
    CASE WHEN p.has_prev THEN p.last_seats END AS prev_seats,
    CASE WHEN p.has_prev THEN p.last_seat_active_users END AS prev_seat_active_users,
    CASE WHEN p.has_prev THEN p.last_utilization END AS prev_license_utilization,
    k.license_utilization - CASE WHEN p.has_prev THEN p.last_utilization END AS license_utilization_change,
    coalesce(g.low_engagement_customers, 0) AS low_engagement_customers,
    coalesce(g.lost_active_users_customers, 0) AS lost_active_users_customers,
    coalesce(g.setup_customers, 0) AS setup_customers,
    coalesce(g.discovery_customers, 0) AS discovery_customers,
    g.activation_stage_customers,
    g.orders,
    g.web_orders,
    g.web_orders / nullif(g.orders, 0) AS web_order_share,
    f.gone_customers
FROM int_kpi_monthly k
JOIN prev p ON p.month = k.month AND p.salesperson IS NOT DISTINCT FROM k.salesperson
LEFT JOIN flows f ON f.month = k.month AND f.salesperson IS NOT DISTINCT FROM k.salesperson
LEFT JOIN flags g ON g.month = k.month AND g.salesperson IS NOT DISTINCT FROM k.salesperson
