-- kpi_overview_monthly: the monthly KPIs for all customers (grain: month):
-- int_kpi_monthly's columns, then, after published_at, int_kpi_flows'. Each
-- column is defined in sql/marts/schema.yml.
SELECT k.* EXCLUDE (salesperson), getvariable('published_at') AS published_at, f.* EXCLUDE (month, salesperson)
FROM int_kpi_monthly k
JOIN int_kpi_flows f ON f.month = k.month AND f.salesperson IS NULL
WHERE k.salesperson IS NULL
ORDER BY k.month
