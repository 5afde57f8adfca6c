-- feature_adoption: adoption of each high-value feature (kpi.features) per
-- month and salesperson (grain: month × salesperson × feature). There are no
-- overall rows: overall = SUM(adopters) / SUM(activated_customers) over the
-- salespeople of a month. Empty when no features are configured.
--   complete             false for the month to date
--   feature              the feature's name in kpi.features
--   activated_customers  the salesperson's activated customers that month (the same
--                        for every feature)
--   adopters             those of them that used the feature that month (its events
--                        add up to its min_uses; stg_customer_features)
--   adoption_rate        adopters / activated_customers (NULL when none activated)
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
