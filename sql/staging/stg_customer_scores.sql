-- stg_customer_scores: activity score per customer and month: the sum of the
-- events listed in kpi.score_events.
-- The establishments export counts three events itself (portal views,
-- downloads and shares: the events portal_view, download and share). For
-- each of them, the export's count is used when its row has one, otherwise
-- the same event summed from the activity exports, so nothing is counted
-- twice. Score events the export does not count always come from the
-- activity exports.
-- @month: month
WITH activity AS (
    SELECT month, customer_ref,
        sum(portal_view) AS portal_view, sum(download) AS download, sum(share) AS share, sum(other) AS other
    FROM (
        SELECT date_trunc('month', day)::DATE AS month, customer_ref,
               portal_view_count AS portal_view, download_count AS download, share_count AS share, other_score_count AS other
        FROM stg_user_days
        UNION ALL
        SELECT date_trunc('month', day)::DATE, customer_ref,
               sum(count) FILTER (WHERE event = 'portal_view' AND list_contains(getvariable('score_events'), event)),
               sum(count) FILTER (WHERE event = 'download' AND list_contains(getvariable('score_events'), event)),
               sum(count) FILTER (WHERE event = 'share' AND list_contains(getvariable('score_events'), event)),
               sum(count) FILTER (WHERE list_contains(getvariable('score_events'), event) AND event NOT IN ('portal_view', 'download', 'share'))
        FROM raw_customer_activity WHERE day < getvariable('as_of') GROUP BY ALL
    )
    GROUP BY ALL
)
SELECT
    cm.month,
    cm.customer_ref,
    (  CASE WHEN list_contains(getvariable('score_events'), 'portal_view') THEN coalesce(cm.portal_views, a.portal_view, 0) ELSE 0 END
     + CASE WHEN list_contains(getvariable('score_events'), 'download') THEN coalesce(cm.downloads, a.download, 0) ELSE 0 END
     + CASE WHEN list_contains(getvariable('score_events'), 'share') THEN coalesce(cm.shares, a.share, 0) ELSE 0 END
     + coalesce(a.other, 0)
    )::BIGINT AS score
FROM stg_customer_months cm
LEFT JOIN activity a USING (month, customer_ref)
