-- Rates that are shares of a whole lie between 0 and 1, and every numerator
-- is at most its denominator.
SELECT 'overview' AS scope, month, NULL AS salesperson, monthly_active_rate, usage_pct
FROM kpi_overview_monthly
WHERE monthly_active_rate NOT BETWEEN 0 AND 1 OR usage_pct NOT BETWEEN 0 AND 1
   OR active_customers > activated_customers OR activated_customers > customers
   OR active_users > users
UNION ALL
SELECT 'salesperson', month, salesperson, monthly_active_rate, usage_pct
FROM kpi_salesperson_monthly
WHERE monthly_active_rate NOT BETWEEN 0 AND 1 OR usage_pct NOT BETWEEN 0 AND 1
   OR active_customers > activated_customers OR active_users > users
