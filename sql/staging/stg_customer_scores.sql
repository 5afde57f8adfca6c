-- stg_customer_scores: activity score per customer and month.
-- The establishments export's own counts win when it carries them
-- (portal views, downloads, shares are the events portal_view, download and
-- share); otherwise the score is summed from the activity exports, so nothing
-- is counted twice. Only the events listed in kpi.score_events count.
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
    SELECT date_trunc('month', day)::DATE AS month, customer_ref, sum(score_count) AS score
    FROM (
        SELECT day, customer_ref, score_count FROM stg_user_days
        UNION ALL
        SELECT day, customer_ref, sum(count) FILTER (WHERE list_contains(getvariable('score_events'), event))
        FROM raw_customer_activity WHERE day < getvariable('as_of') GROUP BY ALL
    )
    GROUP BY ALL
)
SELECT
    e.month,
    e.customer_ref,
    coalesce(e.score, a.score, 0)::BIGINT AS score
FROM export_score e
LEFT JOIN activity_score a USING (month, customer_ref)
