-- raw_users: one row per user per users-export snapshot.
-- No NOT NULL constraints: they cost DuckDB more than the load itself; the
-- connectors guarantee the key columns and sql/tests checks them.
CREATE OR REPLACE TABLE raw_users (
    snapshot_date DATE,
    user_id VARCHAR,
    customer_ref VARCHAR,
    email_domain VARCHAR,
    created_at DATE,
    activated_at DATE,
    deactivated_at DATE,
    archived BOOLEAN
);
