-- raw_customer_activity: usage events per day, customer and event, for
-- sources that know the customer but not the user. users is the number of
-- distinct users that day (not additive across days).
-- No NOT NULL constraints: they cost DuckDB more than the load itself; the
-- connectors guarantee the key columns and sql/tests checks them.
-- @month: date_trunc('month', day)::DATE
CREATE OR REPLACE TABLE raw_customer_activity (
    day DATE,
    customer_ref VARCHAR,
    event VARCHAR,
    count BIGINT,
    users BIGINT,
    source VARCHAR
);
