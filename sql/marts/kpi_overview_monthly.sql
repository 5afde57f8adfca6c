-- kpi_overview_monthly: the monthly KPIs for all customers (grain: month).
-- Definitions: int_kpi_monthly. complete = false marks the month to date.
-- Columns added after the first release come after published_at (definitions:
-- int_kpi_flows).
SELECT k.* EXCLUDE (salesperson), getvariable('published_at') AS published_at, f.* EXCLUDE (month, salesperson)
FROM int_kpi_monthly k
JOIN int_kpi_flows f ON f.month = k.month AND f.salesperson IS NULL
WHERE k.salesperson IS NULL
ORDER BY k.month
