-- kpi_overview_monthly: the monthly KPIs for all customers (grain: month).
-- Definitions: stg_kpi_monthly. complete = false marks the month to date.
SELECT * EXCLUDE (salesperson), getvariable('published_at') AS published_at
FROM stg_kpi_monthly
WHERE salesperson IS NULL
ORDER BY month
