-- stg_customer_features: feature use and adoption milestones per customer and
-- month (grain: month × customer_ref, every row of stg_customer_months).
--   features_used       bitwise OR of the bits (1, 2, 4, 8 in kpi.features order) of
--                       the features the customer used that month: a feature is used
--                       when the counts of its events, user level (raw_activity) plus
--                       customer level (raw_customer_activity), on the month's days
--                       before the as-of date, add up to its min_uses
--   feature_segment     the used features' names joined with ' + ' in config order,
--                       or 'none'
--   ever_used           the customer has used the portal in this or an earlier month: a
--                       usage event (kpi.usage_events; every event when unset) in
--                       either activity export, or the establishments export's own
--                       portal views, downloads or shares above 0
--   milestones_reached  each of kpi.milestone_events counted at least once in this or
--                       an earlier month (not necessarily in the same month); NULL when
--                       kpi.milestone_events is empty
-- Activity of excluded users is left out; a user-level row without a customer
-- takes the user's customer in the users export (as in stg_user_days).
-- raw_activity is read once, filtered to the feature and milestone events, and
-- summed per month and customer with one sum per feature (kpi.features holds
-- at most 4) and a bit per milestone event: no feature rescans anything.
-- @month: month
-- @lookback: raw_activity all, raw_customer_activity all, stg_customer_usage_days all, stg_customer_months all
-- A users snapshot changes the users models, which every month reads; the
-- months whose rows stay the same leave their readers as they were:
-- @cutoff: content
WITH activity AS (
    -- the feature and milestone events of both levels, user-level rows of
    -- excluded users left out; one scan of raw_activity
    SELECT day, customer_ref, user_id, event, count
    FROM raw_activity
    ANTI JOIN (SELECT user_id FROM stg_user_keys WHERE excluded) x USING (user_id)
    WHERE day < getvariable('as_of')
      -- no feature nor milestone configured: nothing to read (DuckDB then skips the scan)
      AND len(getvariable('features')) + len(getvariable('milestone_events')) > 0
      AND list_contains(list_concat(flatten(list_transform(getvariable('features'), lambda f: f.events)), getvariable('milestone_events')), event)
    UNION ALL
    SELECT day, customer_ref, NULL, event, count
    FROM raw_customer_activity
    WHERE day < getvariable('as_of')
),
sums AS (
    -- per month and customer (and user, for rows without a customer): the uses of
    -- each feature (at most 4, by place in kpi.features) and the milestone events done
    -- (bit i-1 for the i-th of kpi.milestone_events)
    SELECT
        date_trunc('month', day)::DATE AS month,
        customer_ref,
        CASE WHEN customer_ref IS NULL THEN user_id END AS user_id,
        sum(count) FILTER (WHERE list_contains(getvariable('features')[1].events, event)) AS uses1,
        sum(count) FILTER (WHERE list_contains(getvariable('features')[2].events, event)) AS uses2,
        sum(count) FILTER (WHERE list_contains(getvariable('features')[3].events, event)) AS uses3,
        sum(count) FILTER (WHERE list_contains(getvariable('features')[4].events, event)) AS uses4,
        bit_or(1::BIGINT << (list_position(getvariable('milestone_events'), event) - 1))
            FILTER (WHERE count > 0 AND list_contains(getvariable('milestone_events'), event)) AS milestones_done
    FROM activity
    GROUP BY ALL
),
customer_sums AS (
    SELECT
        s.month,
        coalesce(s.customer_ref, k.customer_ref) AS customer_ref,
        sum(uses1) AS uses1, sum(uses2) AS uses2, sum(uses3) AS uses3, sum(uses4) AS uses4,
        bit_or(milestones_done) AS milestones_done
    FROM sums s
    LEFT JOIN stg_user_keys k USING (user_id)
    GROUP BY ALL
),
used AS (
    SELECT
        month,
        customer_ref,
        (  CASE WHEN uses1 >= getvariable('features')[1].min_uses THEN getvariable('features')[1].bit ELSE 0 END
         | CASE WHEN uses2 >= getvariable('features')[2].min_uses THEN getvariable('features')[2].bit ELSE 0 END
         | CASE WHEN uses3 >= getvariable('features')[3].min_uses THEN getvariable('features')[3].bit ELSE 0 END
         | CASE WHEN uses4 >= getvariable('features')[4].min_uses THEN getvariable('features')[4].bit ELSE 0 END
        )::INTEGER AS features_used,
        bit_or(milestones_done) OVER (PARTITION BY customer_ref ORDER BY month) AS milestones_so_far
    FROM customer_sums
    WHERE customer_ref IS NOT NULL
),
milestones AS (
    -- the month a customer had done every milestone event at least once
    SELECT customer_ref, min(month) AS reached_month
    FROM used
    WHERE milestones_so_far = (SELECT bit_or(1::BIGINT << (list_position(getvariable('milestone_events'), e) - 1))
                               FROM (SELECT unnest(getvariable('milestone_events')) AS e))
    GROUP BY customer_ref
),
segment_names AS (
    -- the name of every combination code: 0 .. 2^features - 1
    SELECT s.code::INTEGER AS code, coalesce(string_agg(f.name, ' + ' ORDER BY f.bit), 'none') AS feature_segment
    FROM (SELECT unnest(range(0, 1 << len(getvariable('features')))) AS code) s
    LEFT JOIN (SELECT unnest(getvariable('features'), recursive := true)) f ON (s.code & f.bit) <> 0
    GROUP BY s.code
),
first_activity AS (
    SELECT customer_ref, min(month) AS first_month
    FROM (
        -- a first use is a usage event (kpi.usage_events), not a login alone
        SELECT customer_ref, date_trunc('month', min(day))::DATE AS month FROM stg_customer_usage_days GROUP BY customer_ref
        UNION ALL
        SELECT customer_ref, min(month) FROM stg_customer_months
        WHERE coalesce(portal_views, 0) + coalesce(downloads, 0) + coalesce(shares, 0) > 0 GROUP BY customer_ref
    )
    WHERE customer_ref IS NOT NULL
    GROUP BY customer_ref
)
SELECT
    cm.month,
    cm.customer_ref,
    coalesce(u.features_used, 0)::INTEGER AS features_used,
    sn.feature_segment,
    coalesce(fa.first_month <= cm.month, false) AS ever_used,
    CASE WHEN len(getvariable('milestone_events')) > 0 THEN coalesce(ms.reached_month <= cm.month, false) END AS milestones_reached
FROM stg_customer_months cm
LEFT JOIN used u USING (month, customer_ref)
JOIN segment_names sn ON sn.code = coalesce(u.features_used, 0)
LEFT JOIN first_activity fa USING (customer_ref)
LEFT JOIN milestones ms USING (customer_ref)
