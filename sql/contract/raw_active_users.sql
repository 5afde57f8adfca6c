-- raw_active_users: active users as an analytics source counted them itself
-- (the GA4 Data API's activeUsers of the usage events), one row per period
-- and scope. A user counts once per row however many events, days or
-- customers they touched, so these figures never add up from finer rows
-- (nor from raw_customer_activity.users, which counts per event):
--   day           the day (period 'day'), or the first day of the month (period 'month')
--   period        'day' or 'month' (the calendar month, to yesterday for the current one)
--   customer_ref  the customer of a customer-day row; NULL: every user with a
--                 customer (excluded customers left out)
--   active_users  distinct active users of the period and scope
-- No NOT NULL constraints: they cost DuckDB more than the load itself; the
-- connectors guarantee the key columns and sql/tests checks them.
-- @month: date_trunc('month', day)::DATE
CREATE OR REPLACE TABLE raw_active_users (
    day DATE,
    period VARCHAR,
    customer_ref VARCHAR,
    active_users BIGINT,
    source VARCHAR
);
