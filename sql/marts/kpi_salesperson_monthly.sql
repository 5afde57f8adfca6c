-- kpi_salesperson_monthly: the monthly KPIs per salesperson (grain: month ×
-- salesperson). A customer counts for the salesperson on its row of that
-- month. Summing a numerator and its denominator over salespeople gives
-- kpi_overview_monthly's ratio.
-- Columns added after the first release come after published_at (definitions:
-- int_kpi_flows).
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
