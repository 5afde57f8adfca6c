-- stg_customer_months: one row per customer per reported month.
-- A month with its own establishments export lists the customers of that
-- export; the month to date, known from activity only, carries the latest
-- export forward. A complete month is never carried forward: without its
-- export it has no customers, and sql/tests fails the run. Excluded
-- references are dropped.
-- activated = not archived and has portal access.
-- @month: month
-- @lookback: raw_customers all
WITH export_months AS (
    SELECT DISTINCT month AS export_month FROM raw_customers
),
month_source AS (
    SELECT m.month, max(e.export_month) AS export_month
    FROM stg_months m JOIN export_months e
      ON e.export_month = m.month OR (NOT m.complete AND e.export_month < m.month)
    GROUP BY m.month
)
SELECT
    ms.month,
    c.customer_ref,
    c.name,
    c.salesperson,
    c.archived,
    c.has_portal_access,
    NOT c.archived AND c.has_portal_access AS activated,
    c.seats,
    -- the export's own counts describe its month only
    CASE WHEN ms.month = c.month THEN c.portal_views END AS portal_views,
    CASE WHEN ms.month = c.month THEN c.downloads END AS downloads,
    CASE WHEN ms.month = c.month THEN c.shares END AS shares
FROM month_source ms
JOIN raw_customers c ON c.month = ms.export_month
WHERE NOT list_contains(getvariable('exclude_customers'), c.customer_ref)
