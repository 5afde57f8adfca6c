-- int_customer_firsts: one row per customer: the first month it is listed
-- (created_month), the first month it was activated (onboarded_month, NULL
-- when never), and whether that activation is after the first reported
-- month (onboarding_judged: a customer activated in the first reported
-- month may have been so before the data begins). These are facts of all
-- the customer's months: int_customer_monthly reads them here, so that each
-- of its months reads only itself and the month before.
SELECT
    customer_ref,
    min(month) AS created_month,
    min(month) FILTER (WHERE activated) AS onboarded_month,
    coalesce(min(month) FILTER (WHERE activated) > (SELECT min(month) FROM stg_months), false) AS onboarding_judged
FROM stg_customer_months
GROUP BY customer_ref
ORDER BY customer_ref
