-- raw_users: one row per user per users-export snapshot.
CREATE OR REPLACE TABLE raw_users (
    snapshot_date DATE NOT NULL,
    user_id VARCHAR NOT NULL,
    customer_ref VARCHAR,
    email_domain VARCHAR,
    created_at DATE,
    activated_at DATE,
    deactivated_at DATE,
    archived BOOLEAN
);
