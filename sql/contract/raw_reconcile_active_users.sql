-- raw_reconcile_active_users: raw_active_users' twin for GA4 Data API
-- sources pulled for `uptake reconcile` only (use: reconcile). No model reads
-- it: its rows never reach a KPI.
CREATE OR REPLACE TABLE raw_reconcile_active_users (
    day DATE,
    period VARCHAR,
    customer_ref VARCHAR,
    active_users BIGINT,
    source VARCHAR
);
