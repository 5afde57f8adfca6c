-- weekly_active_customers: weekly-active customers per complete ISO week and
-- salesperson (grain: week × salesperson). A weekly-active customer is an
-- activated customer active (at least one usage event, kpi.usage_events) in
-- each of the 4 complete ISO weeks ending with this one. There are no overall
-- rows: every customer has one salesperson per week, so the overall figures
-- are the SUM of every column over the salespeople of a week. A week is
-- credited by the customer's row (salesperson, activated) of the month of its
-- Sunday; weeks run from the first Monday of the first reported month to the
-- last week whose Sunday is before the run's as-of date.
--   week                     the ISO week's Monday
--   salesperson              the salesperson of the customers that week
--   activated_customers      not archived and with portal access, in the month of the week's Sunday
--   active_customers         activated customers with at least one usage event that week
--   weekly_active_customers  activated customers active in each of the 4 weeks ending with this one;
--                            NULL for the first 3 weeks reported (fewer than 4 weeks of history)
--   weekly_active_rate       weekly_active_customers / activated_customers (NULL when none activated)
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
