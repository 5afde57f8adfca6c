-- raw_activity: usage events per day, customer, user and event.
-- No NOT NULL constraints: they cost DuckDB more than the load itself; the
-- connectors guarantee the key columns and sql/tests checks them.
-- @month: date_trunc('month', day)::DATE
CREATE OR REPLACE TABLE raw_activity (
    day DATE,
    customer_ref VARCHAR,
    user_id VARCHAR,
    event VARCHAR,
    count BIGINT,
    source VARCHAR
);
