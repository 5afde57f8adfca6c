-- feature_segments: activated customers per combination of the high-value
-- features (kpi.features) they used that month, per month and salesperson
-- (grain: month × salesperson × segment). Only segments with at least one
-- customer appear: a missing segment has 0 customers. A salesperson's
-- customers over its segments add up to its activated customers
-- (feature_adoption); overall = SUM over salespeople. Empty when no features
-- are configured.
--   complete   false for the month to date
--   segment    the used features' names joined with ' + ' in config order, or 'none'
--   features   how many features the segment holds (0 to 4)
--   customers  activated customers in the segment
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
