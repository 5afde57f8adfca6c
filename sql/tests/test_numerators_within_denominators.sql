-- Every numerator of a rate is at most its denominator (the rates' ranges
-- are column tests of sql/marts/schema.yml).
SELECT 'overview' AS scope, month, NULL AS salesperson, active_customers, activated_customers, customers, active_users, users
FROM kpi_overview_monthly
WHERE active_customers > activated_customers OR activated_customers > customers
   OR active_users > users
UNION ALL
SELECT 'salesperson', month, salesperson, active_customers, activated_customers, customers, active_users, users
FROM kpi_salesperson_monthly
WHERE active_customers > activated_customers OR activated_customers > customers
   OR active_users > users
