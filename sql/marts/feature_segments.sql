-- feature_segments: activated customers per combination of the features they
-- used, per month and salesperson (grain: month × salesperson × segment); only
-- segments with a customer appear. Columns defined in sql/marts/schema.yml.
SELECT
    cm.month,
    m.complete,
    cm.salesperson,
    cf.feature_segment AS segment,
    bit_count(cf.features_used)::INTEGER AS features,
    count(*) AS customers,
    getvariable('published_at') AS published_at
FROM stg_customer_months cm
JOIN stg_customer_features cf USING (month, customer_ref)
JOIN stg_months m USING (month)
WHERE cm.activated
  AND len(getvariable('features')) > 0
GROUP BY cm.month, m.complete, cm.salesperson, cf.feature_segment, cf.features_used
ORDER BY cm.month, cm.salesperson, cf.features_used
