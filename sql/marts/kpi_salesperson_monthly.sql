-- kpi_salesperson_monthly: the monthly KPIs per salesperson (grain: month ×
-- salesperson). A customer counts for the salesperson on its row of that
-- month. Summing a numerator and its denominator over salespeople gives
-- kpi_overview_monthly's ratio.
SELECT
    month,
    salesperson,
    * EXCLUDE (month, salesperson),
    getvariable('published_at') AS published_at
FROM stg_kpi_monthly
WHERE salesperson IS NOT NULL
ORDER BY month, salesperson
