-- stg_customer_orders: orders per customer and month (grain: month ×
-- customer_ref), from the order sources other than the web shop's analytics
-- (GA4 purchases count the web channel only: with them alone the web share
-- would always be 100 %). No rows when there is no such source.
--   orders      orders placed that month, any channel
--   web_orders  of those, placed on the site (channel 'web')
SELECT
    date_trunc('month', day)::DATE AS month,
    customer_ref,
    count(*) AS orders,
    count(*) FILTER (WHERE channel = 'web') AS web_orders
FROM raw_orders
-- orders placed by excluded (internal, test) users do not count
ANTI JOIN (SELECT user_id FROM stg_user_keys WHERE excluded) x USING (user_id)
WHERE source NOT LIKE 'ga4%'
  AND day < getvariable('as_of')
  AND NOT list_contains(getvariable('exclude_customers'), customer_ref)
GROUP BY ALL
