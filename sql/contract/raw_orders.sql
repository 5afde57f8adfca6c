-- raw_orders: one row per order (optional source).
-- No NOT NULL constraints: they cost DuckDB more than the load itself; the
-- connectors guarantee the key columns and sql/tests checks them.
-- @month: date_trunc('month', day)::DATE
CREATE OR REPLACE TABLE raw_orders (
    order_id VARCHAR,
    customer_ref VARCHAR,
    user_id VARCHAR,
    day DATE,
    channel VARCHAR,
    revenue DECIMAL(18, 2),
    source VARCHAR
);
