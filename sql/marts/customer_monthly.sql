-- customer_monthly: one row per customer per month (grain: month ×
-- customer_ref), int_customer_monthly's columns as published. Each column is
-- defined in sql/marts/schema.yml.
-- @materialized: view
SELECT * FROM int_customer_monthly
