-- stg_customer_user_flows: the users each customer gained and lost in each
-- reported month (stg_users), for int_customer_flows.
--   new_users: users created in the month
--   new_users_logged_in: of those, the ones whose first login is in that month too
--   deactivated_users: users deactivated in the month that were created before it
-- A model of its own, by month and keyed by its content: a users snapshot
-- builds it again (it reads stg_users whole), and the months whose counts
-- come out the same leave int_customer_flows' months as they were.
-- @month: month
-- @cutoff: content
SELECT
    customer_ref,
    month,
    sum(new_users)::BIGINT AS new_users,
    sum(new_users_logged_in)::BIGINT AS new_users_logged_in,
    sum(deactivated_users)::BIGINT AS deactivated_users
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
SEMI JOIN stg_months USING (month)
GROUP BY ALL
