-- stg_customer_scores: activity score per customer and month: the sum of the
-- events listed in kpi.score_events.
-- The establishments export counts three events itself (portal views,
-- downloads and shares: the events portal_view, download and share). When
-- its row carries those counts they are used, otherwise the same events are
-- summed from the activity exports, so nothing is counted twice. Score events
-- the export does not count always come from the activity exports.
WITH export_score AS (
    SELECT
        month,
        customer_ref,
        CASE WHEN portal_views IS NULL AND downloads IS NULL AND shares IS NULL THEN NULL ELSE
              CASE WHEN list_contains(getvariable('score_events'), 'portal_view') THEN coalesce(portal_views, 0) ELSE 0 END
            + CASE WHEN list_contains(getvariable('score_events'), 'download') THEN coalesce(downloads, 0) ELSE 0 END
            + CASE WHEN list_contains(getvariable('score_events'), 'share') THEN coalesce(shares, 0) ELSE 0 END
        END AS score
    FROM stg_customer_months
),
activity_score AS (
    SELECT month, customer_ref, sum(export_events) AS export_events, sum(other_events) AS other_events
    FROM (
        SELECT date_trunc('month', day)::DATE AS month, customer_ref,
               export_score_count AS export_events, other_score_count AS other_events
        FROM stg_user_days
        UNION ALL
        SELECT date_trunc('month', day)::DATE, customer_ref,
               sum(count) FILTER (WHERE list_contains(getvariable('score_events'), event) AND event IN ('portal_view', 'download', 'share')),
               sum(count) FILTER (WHERE list_contains(getvariable('score_events'), event) AND event NOT IN ('portal_view', 'download', 'share'))
        FROM raw_customer_activity WHERE day < getvariable('as_of') GROUP BY ALL
    )
    GROUP BY ALL
)
SELECT
    e.month,
    e.customer_ref,
    (coalesce(e.score, a.export_events, 0) + coalesce(a.other_events, 0))::BIGINT AS score
FROM export_score e
LEFT JOIN activity_score a USING (month, customer_ref)
