-- raw_customers: one row per customer (establishment) per month, as exported.
-- month is the first day of the month the row describes.
CREATE OR REPLACE TABLE raw_customers (
    month DATE NOT NULL,
    customer_ref VARCHAR NOT NULL,
    name VARCHAR,
    salesperson VARCHAR,
    archived BOOLEAN NOT NULL,
    has_portal_access BOOLEAN NOT NULL,
    seats INTEGER,
    portal_views BIGINT,
    downloads BIGINT,
    shares BIGINT,
    source_file VARCHAR,
    source_line BIGINT
);
