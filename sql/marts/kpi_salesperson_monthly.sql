-- kpi_salesperson_monthly: the monthly KPIs per salesperson (grain: month ×
-- salesperson), the columns of kpi_overview_monthly. Each column is defined in
-- sql/marts/schema.yml.
SELECT
    k.month,
    k.salesperson,
    k.* EXCLUDE (month, salesperson),
    getvariable('published_at') AS published_at,
    f.* EXCLUDE (month, salesperson)
FROM int_kpi_monthly k
JOIN int_kpi_flows f ON f.month = k.month AND f.salesperson = k.salesperson
WHERE k.salesperson IS NOT NULL
ORDER BY k.month, k.salesperson
