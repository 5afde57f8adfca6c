-- feature_adoption: adoption of each high-value feature (kpi.features) per
-- month and salesperson (grain: month × salesperson × feature); no overall
-- rows. Columns defined in sql/marts/schema.yml.
WITH feats AS (
    SELECT unnest(getvariable('features'), recursive := true)
),
counts AS (
    SELECT
        cm.month,
        cm.salesperson,
        f.name AS feature,
        f.bit,
        count(*) FILTER (WHERE cm.activated) AS activated_customers,
        count(*) FILTER (WHERE cm.activated AND (cf.features_used & f.bit) <> 0) AS adopters
    FROM stg_customer_months cm
    JOIN stg_customer_features cf USING (month, customer_ref)
    CROSS JOIN feats f
    WHERE len(getvariable('features')) > 0
    GROUP BY ALL
)
SELECT
    c.month,
    m.complete,
    c.salesperson,
    c.feature,
    c.activated_customers,
    c.adopters,
    c.adopters / nullif(c.activated_customers, 0) AS adoption_rate,
    getvariable('published_at') AS published_at
FROM counts c
JOIN stg_months m USING (month)
ORDER BY c.month, c.salesperson, c.bit
