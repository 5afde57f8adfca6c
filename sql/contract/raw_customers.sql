-- raw_customers: one row per customer (establishment) per month, as exported.
-- month is the first day of the month the row describes.
-- No NOT NULL constraints: they cost DuckDB more than the load itself; the
-- connectors guarantee the key columns and sql/tests checks them.
-- @month: month
CREATE OR REPLACE TABLE raw_customers (
    month DATE,
    customer_ref VARCHAR,
    name VARCHAR,
    salesperson VARCHAR,
    archived BOOLEAN,
    has_portal_access BOOLEAN,
    seats INTEGER,
    portal_views BIGINT,
    downloads BIGINT,
    shares BIGINT,
    source_file VARCHAR,
    source_line BIGINT
);
