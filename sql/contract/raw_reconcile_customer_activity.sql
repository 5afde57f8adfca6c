-- raw_reconcile_customer_activity: raw_customer_activity's twin for GA4 Data
-- API sources pulled for `uptake reconcile` only (use: reconcile). No model
-- reads it: its rows never reach a KPI.
CREATE OR REPLACE TABLE raw_reconcile_customer_activity (
    day DATE,
    customer_ref VARCHAR,
    event VARCHAR,
    count BIGINT,
    users BIGINT,
    source VARCHAR
);
