-- raw_orders: one row per order (optional source).
CREATE OR REPLACE TABLE raw_orders (
    order_id VARCHAR NOT NULL,
    customer_ref VARCHAR,
    user_id VARCHAR,
    day DATE NOT NULL,
    channel VARCHAR NOT NULL,
    revenue DECIMAL(18, 2)
);
