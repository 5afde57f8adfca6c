-- A feature's adopters are at most the activated customers, and the customers
-- of a month and salesperson's feature segments add up to its activated
-- customers.
WITH activated AS (
    SELECT DISTINCT month, salesperson, activated_customers FROM feature_adoption
),
segments AS (
    SELECT month, salesperson, sum(customers) AS customers FROM feature_segments GROUP BY ALL
)
SELECT 'adopters > activated' AS rule, month, salesperson, feature, adopters, activated_customers
FROM feature_adoption
WHERE adopters > activated_customers OR adopters < 0
UNION ALL
SELECT 'segments do not add up', month, salesperson, NULL, s.customers, a.activated_customers
FROM activated a
FULL JOIN segments s USING (month, salesperson)
WHERE coalesce(s.customers, 0) <> coalesce(a.activated_customers, 0)
