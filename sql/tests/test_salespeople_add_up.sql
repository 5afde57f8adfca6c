-- Summing the salespeople's numerators and denominators gives the overview's.
SELECT o.month, o.customers, s.customers AS salesperson_customers,
       o.active_customers, s.active_customers AS salesperson_active, o.users, s.users AS salesperson_users
FROM kpi_overview_monthly o
JOIN (
    SELECT month, sum(customers) AS customers, sum(activated_customers) AS activated_customers,
           sum(active_customers) AS active_customers, sum(users) AS users, sum(active_users) AS active_users,
           sum(score) AS score
    FROM kpi_salesperson_monthly GROUP BY month
) s USING (month)
WHERE o.customers <> s.customers OR o.activated_customers <> s.activated_customers
   OR o.active_customers <> s.active_customers OR o.users <> s.users
   OR o.active_users <> s.active_users OR o.score <> s.score
