-- Summing the salespeople's numerators and denominators gives the overview's
-- (the counts built from customer_monthly, one salesperson per customer and
-- month; NULL counts compare as equal).
SELECT o.month, o.customers, s.customers AS salesperson_customers,
       o.active_customers, s.active_customers AS salesperson_active, o.users, s.users AS salesperson_users
FROM kpi_overview_monthly o
JOIN (
    SELECT month, sum(customers) AS customers, sum(activated_customers) AS activated_customers,
           sum(active_customers) AS active_customers, sum(users) AS users, sum(active_users) AS active_users,
           sum(score) AS score, sum(low_engagement_customers) AS low_engagement_customers,
           sum(lost_active_users_customers) AS lost_active_users_customers, sum(setup_customers) AS setup_customers,
           sum(discovery_customers) AS discovery_customers, sum(activation_stage_customers) AS activation_stage_customers,
           sum(orders) AS orders, sum(web_orders) AS web_orders
    FROM kpi_salesperson_monthly GROUP BY month
) s USING (month)
WHERE o.customers <> s.customers OR o.activated_customers <> s.activated_customers
   OR o.active_customers <> s.active_customers OR o.users <> s.users
   OR o.active_users <> s.active_users OR o.score <> s.score
   OR o.low_engagement_customers <> s.low_engagement_customers
   OR o.lost_active_users_customers <> s.lost_active_users_customers
   OR o.setup_customers <> s.setup_customers OR o.discovery_customers <> s.discovery_customers
   OR o.activation_stage_customers IS DISTINCT FROM s.activation_stage_customers
   OR o.orders IS DISTINCT FROM s.orders OR o.web_orders IS DISTINCT FROM s.web_orders
