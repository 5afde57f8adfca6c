-- stg_customer_flows: how each customer changed during a month (grain:
-- month × customer_ref), for the activation, deactivation, churn and
-- retention rates. One row per customer of the month (customer_monthly),
-- credited to the month's salesperson; its state at the start is its row of
-- the previous month. A customer missing from the month's export (deleted,
-- not archived) is in none of the counts. The first reported month has no
-- start: no rows, so its rates are NULL.
--   to_activate          a customer not activated at the start (present then and not
--                        archived), or created this month
--   newly_activated      one of those, activated at the end
--   activated_at_start   activated at the start
--   deactivated          activated at the start, still a customer (not archived) at the end,
--                        no longer activated (portal access removed)
--   churned              activated at the start, archived at the end
--   active_at_start, retained   active last month; and active this month too
--   new_users            users of the customer created this month;
--   new_users_logged_in  of those, the ones whose first login is this month
--   users_at_start       users at the end of last month (customers activated then)
--   deactivated_users    of those, deactivated during this month
WITH cm AS (
    SELECT month, customer_ref, salesperson, archived, activated, active, created_month, users
    FROM customer_monthly
),
user_months AS (
    SELECT customer_ref, month, sum(new_users) AS new_users, sum(new_users_logged_in) AS new_users_logged_in,
           sum(deactivated_users) AS deactivated_users
    FROM (
        SELECT customer_ref, date_trunc('month', created_at)::DATE AS month, count(*) AS new_users,
               count(*) FILTER (WHERE date_trunc('month', activated_at) = date_trunc('month', created_at)) AS new_users_logged_in,
               0 AS deactivated_users
        FROM stg_users WHERE created_at IS NOT NULL
        GROUP BY ALL
        UNION ALL
        SELECT customer_ref, date_trunc('month', deactivated_at)::DATE, 0, 0,
               count(*) FILTER (WHERE coalesce(created_at, DATE '0001-01-01') < date_trunc('month', deactivated_at))
        FROM stg_users WHERE deactivated_at IS NOT NULL
        GROUP BY ALL
    )
    GROUP BY ALL
)
SELECT
    c.month,
    c.customer_ref,
    c.salesperson,
    coalesce(NOT p.archived AND NOT p.activated, false) OR c.created_month = c.month AS to_activate,
    (coalesce(NOT p.archived AND NOT p.activated, false) OR c.created_month = c.month) AND c.activated AS newly_activated,
    coalesce(p.activated, false) AS activated_at_start,
    coalesce(p.activated AND NOT c.archived AND NOT c.activated, false) AS deactivated,
    coalesce(p.activated AND c.archived, false) AS churned,
    coalesce(p.active, false) AS active_at_start,
    coalesce(p.active AND c.active, false) AS retained,
    coalesce(u.new_users, 0)::BIGINT AS new_users,
    coalesce(u.new_users_logged_in, 0)::BIGINT AS new_users_logged_in,
    CASE WHEN p.activated THEN p.users ELSE 0 END::BIGINT AS users_at_start,
    CASE WHEN p.activated THEN coalesce(u.deactivated_users, 0) ELSE 0 END::BIGINT AS deactivated_users
FROM cm c
JOIN stg_months pm ON pm.month = c.month - INTERVAL 1 MONTH
LEFT JOIN cm p ON p.month = pm.month AND p.customer_ref = c.customer_ref
LEFT JOIN user_months u ON u.customer_ref = c.customer_ref AND u.month = c.month
