-- action_list: what each salesperson should do next, for the latest complete
-- month (grain: customer × play). The plays, their rules and the columns are
-- defined in sql/marts/schema.yml. Sorted for a sales manager reading it rep by
-- rep: salesperson, priority, the play in the order of the plays CTE, the most
-- severe first within a play; position numbers the rows of each salesperson.
WITH current_month AS (
    SELECT max(month) AS month FROM stg_months WHERE complete
),
last_two AS (
    -- the month and the month before, read once (a second read of the
    -- model, for last month's active users, would make DuckDB keep all its
    -- months aside)
    SELECT cm.*,
           CASE WHEN lag(cm.month) OVER w = (cm.month - INTERVAL 1 MONTH)::DATE THEN lag(cm.active_users) OVER w END AS prev_active_users
    FROM int_customer_monthly cm
    WHERE cm.month BETWEEN (SELECT (month - INTERVAL 1 MONTH)::DATE FROM current_month) AND (SELECT month FROM current_month)
    WINDOW w AS (PARTITION BY cm.customer_ref ORDER BY cm.month)
),
c AS MATERIALIZED (
    SELECT cm.*,
           strftime(cm.onboarded_month, '%B %Y') AS onboarded_name,
           sum(CASE WHEN cm.active THEN 1 ELSE 0 END) OVER () AS active_customers, -- not FILTER: slow in a window
           rank() OVER (ORDER BY CASE WHEN cm.active THEN cm.score END DESC NULLS LAST) AS score_rank
    FROM last_two cm
    JOIN current_month USING (month)
),
plays AS (
    SELECT c.*, 'churn_risk' AS play, 1 AS priority, 1 AS play_rank, -prev_score AS severity,
        CASE WHEN activated THEN format('no longer active: score {} after {} the month before', score, prev_score)
             ELSE format('portal access removed (score {} after {} the month before)', score, prev_score) END AS reason,
        CASE WHEN activated THEN 'Call the key contact to find out why the team stopped using the portal, and agree a plan to win them back'
             ELSE 'Find out why the portal access was removed and whether the account is at risk' END AS suggested_task
    FROM c WHERE churn_risk AND NOT active
    UNION ALL
    SELECT c.*, 'lost_active_users', 1, 2, -prev_active_users,
        format('no active user left of {}; {} active the month before', users, prev_active_users),
        'Re-establish the connection: find who replaced the key user and name a new champion'
    FROM c WHERE lost_active_users
    UNION ALL
    SELECT c.*, 'usage_drop', 2, 3, score_mom,
        format('score {}, down {:.0f} % from {} the month before (alert at {:.0f} %)', score, -100 * score_mom, prev_score,
               getvariable('drop_alert_pct')),
        'Contact the customer to find the reasons for the drop, then address them with a mitigation plan'
    FROM c WHERE churn_risk AND active
    UNION ALL
    SELECT c.*, 'low_engagement', 2, 4, coalesce(usage_pct, 0),
        CASE WHEN NOT active THEN format('onboarded in {}; not active (score {})', onboarded_name, score)
             ELSE format('onboarded in {}; usage {:.0f} % ({} of {} users), below {:.0f} %', onboarded_name, 100 * usage_pct,
                         active_users, users, getvariable('low_engagement_usage_pct')) END,
        'Check that the team sees the value: schedule a training session if product knowledge is missing'
    FROM c WHERE low_engagement
    UNION ALL
    SELECT c.*, 'low_utilization', 2, 5, license_utilization - seats / 1e9,
        format('utilization {:.0f} % ({} of {} seats), below {:.0f} %', 100 * license_utilization, active_users, seats,
               getvariable('low_utilization_pct')),
        'Review usage with the customer and agree a plan to raise utilization; tell the account executive of the commercial risk'
    FROM c WHERE low_utilization
    UNION ALL
    SELECT c.*, 'champion', 3, 6, -score,
        format('score {}, rank {} of {} active customers', score, score_rank, active_customers),
        'Thank the team, ask for a testimonial or an NPS score, and explore further opportunities'
    FROM c WHERE champion AND NOT churn_risk
)
SELECT
    month,
    customer_ref,
    name,
    salesperson,
    play,
    reason,
    suggested_task,
    priority,
    row_number() OVER (PARTITION BY salesperson ORDER BY priority, play_rank, severity, customer_ref)::INTEGER AS position,
    getvariable('published_at') AS published_at
FROM plays
ORDER BY salesperson, position
