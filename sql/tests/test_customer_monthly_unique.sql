-- Each customer has at most one row per month.
SELECT month, customer_ref, count(*) AS rows
FROM customer_monthly
GROUP BY ALL
HAVING count(*) > 1
