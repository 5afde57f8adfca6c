-- weekly_active_customers: weekly-active customers per complete ISO week and
-- salesperson (grain: week × salesperson); no overall rows. A week is credited
-- by the customer's row (salesperson, activated) of the month of its Sunday;
-- weeks run from the first Monday of the first reported month to the last week
-- whose Sunday is before the run's as-of date. Columns defined in
-- sql/marts/schema.yml.
WITH portfolio AS (
    SELECT month, salesperson, count(*) FILTER (WHERE activated) AS activated_customers
    FROM stg_customer_months
    GROUP BY month, salesperson
),
active AS (
    SELECT
        a.week,
        cm.salesperson,
        count(*) AS active_customers,
        count(*) FILTER (WHERE a.active_4_weeks) AS weekly_active_customers
    FROM stg_weekly_customer_weeks a
    JOIN stg_customer_months cm ON cm.customer_ref = a.customer_ref AND cm.month = a.month
    WHERE cm.activated
    GROUP BY a.week, cm.salesperson
)
SELECT
    w.week,
    p.salesperson,
    p.activated_customers,
    coalesce(a.active_customers, 0) AS active_customers,
    CASE WHEN w.has_history THEN coalesce(a.weekly_active_customers, 0) END AS weekly_active_customers,
    CASE WHEN w.has_history THEN coalesce(a.weekly_active_customers, 0) / nullif(p.activated_customers, 0) END AS weekly_active_rate,
    getvariable('published_at') AS published_at
FROM stg_weekly_weeks w
JOIN portfolio p USING (month)
LEFT JOIN active a ON a.week = w.week AND a.salesperson = p.salesperson
ORDER BY w.week, p.salesperson
