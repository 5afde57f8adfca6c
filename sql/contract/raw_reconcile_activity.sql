-- raw_reconcile_activity: raw_activity's twin for GA4 export sources pulled
-- for `uptake reconcile` only (use: reconcile). No model reads it: its rows
-- never reach a KPI, so the Data API and the export of one property can both
-- be configured without counting each event twice.
CREATE OR REPLACE TABLE raw_reconcile_activity (
    day DATE,
    customer_ref VARCHAR,
    user_id VARCHAR,
    event VARCHAR,
    count BIGINT,
    source VARCHAR
);
