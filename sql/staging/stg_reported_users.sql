-- stg_reported_users: daily and monthly active users as GA4 counted them
-- (raw_active_users, from the GA4 Data API), for a run whose only activity
-- source is the Data API: with no user-level activity (raw_activity empty)
-- uptake cannot count distinct users itself, and GA4's activeUsers do not
-- add up across events, days or customers, so DAU and MAU take GA4's own
-- figures instead. Empty as soon as any source loads user-level activity:
-- user-level KPIs then come from raw_activity alone (the two would count the
-- same people twice).
--   day           the day (period 'day'), or the first day of the month (period 'month')
--   period        'day' or 'month'
--   customer_ref  the customer of a customer-day row; NULL: all customers
--   active_users  GA4's active users, summed over the Data API sources (several
--                 properties: one user of two properties counts twice)
-- Rows of excluded customers are left out (the day and month reports already
-- leave them out when GA4 is asked).
WITH user_level AS (
    SELECT EXISTS (SELECT 1 FROM raw_activity WHERE day < getvariable('as_of')) AS present
)
SELECT
    day,
    period,
    customer_ref,
    sum(active_users)::BIGINT AS active_users
FROM raw_active_users
WHERE day < getvariable('as_of')
  AND NOT (SELECT present FROM user_level)
  AND NOT list_contains(getvariable('exclude_customers'), coalesce(customer_ref, ''))
GROUP BY ALL
