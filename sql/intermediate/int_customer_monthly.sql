-- int_customer_monthly: one row per customer per month, every KPI flag of the
-- customer_monthly mart (each column defined in sql/marts/schema.yml). Marts
-- and the intermediate models read this one, never the published mart.
-- Built month by month: a month reads itself and the month before (the
-- previous month's values); the facts of all the customer's months come
-- from int_customer_firsts.
-- @month: month
-- @lookback: stg_customer_months 1, stg_months 1, stg_customer_scores 1, stg_customer_users 1
WITH inputs AS (
    -- what the run has: a users export as of the run, an order source other than GA4
    SELECT has_users, has_orders FROM stg_sources
),
base AS (
    SELECT
        cm.month,
        cm.customer_ref,
        cm.name,
        cm.salesperson,
        m.complete,
        cm.archived,
        cm.has_portal_access,
        cm.activated,
        s.score,
        cm.activated AND s.score >= getvariable('active_min_score') AS active,
        coalesce(u.users, 0) AS users,
        coalesce(u.active_users, 0) AS active_users,
        cm.seats,
        f.created_month,
        f.onboarded_month,
        f.onboarding_judged
    FROM stg_customer_months cm
    JOIN stg_months m USING (month)
    JOIN stg_customer_scores s USING (month, customer_ref)
    LEFT JOIN stg_customer_users u USING (month, customer_ref)
    JOIN int_customer_firsts f USING (customer_ref)
),
previous AS (
    -- each customer's month as the next month sees it (month × customer_ref
    -- is unique: csvexport refuses a reference twice in a month's export)
    SELECT
        (month + INTERVAL 1 MONTH)::DATE AS month,
        customer_ref,
        score AS prev_score,
        active AS prev_active,
        active_users AS prev_active_users,
        seats AS prev_seats,
        activated AS prev_activated
    FROM base
),
active_ranks AS (
    -- each active customer's rank by score in its month, and how many are active
    SELECT
        month,
        customer_ref,
        rank() OVER (PARTITION BY month ORDER BY score DESC) AS active_rank,
        count(*) OVER (PARTITION BY month) AS active_in_month
    FROM base
    WHERE active
),
with_history AS (
    SELECT
        b.*,
        -- the previous month's values, when the customer has that month
        p.prev_score,
        p.prev_active,
        p.prev_active_users,
        p.prev_seats,
        p.prev_activated,
        r.active_in_month,
        r.active_rank
    FROM base b
    LEFT JOIN previous p USING (month, customer_ref)
    LEFT JOIN active_ranks r USING (month, customer_ref)
),
ratios AS (
    SELECT
        *,
        CASE WHEN complete THEN (score - prev_score) / nullif(prev_score, 0) END AS score_mom,
        active_users / nullif(users, 0) AS usage_pct,
        -- utilization needs a users export: without one as of the run, every
        -- customer would read 0 active users
        CASE WHEN activated AND has_users THEN active_users / nullif(seats, 0) END AS license_utilization,
        -- last month's, of a customer activated then too (not the month to date)
        CASE WHEN complete AND activated AND prev_activated AND has_users
             THEN prev_active_users / nullif(prev_seats, 0) END AS prev_license_utilization
    FROM with_history CROSS JOIN inputs
)
SELECT
    month,
    customer_ref,
    name,
    salesperson,
    complete,
    created_month,
    onboarded_month,
    archived,
    has_portal_access,
    activated,
    score,
    prev_score,
    score_mom,
    active,
    prev_active,
    active AND (
        active_rank <= greatest(1, ceil(active_in_month * getvariable('champion_top_pct') / 100.0))
        OR coalesce(score >= getvariable('champion_min_score'), false)
    ) AS champion,
    coalesce(complete AND NOT archived AND prev_active AND (
        NOT active OR (score - prev_score) / nullif(prev_score, 0) <= -getvariable('drop_alert_pct') / 100.0
    ), false) AS churn_risk,
    users,
    active_users,
    usage_pct,
    seats,
    license_utilization,
    prev_license_utilization,
    coalesce(license_utilization < getvariable('low_utilization_pct') / 100.0, false) AS low_utilization,
    coalesce(license_utilization - prev_license_utilization >= getvariable('increasing_utilization_pts') / 100.0, false) AS utilization_increasing,
    getvariable('published_at') AS published_at,
    -- columns added after the first release: at the end, after published_at
    -- onboarded in the first reported month means "at or before it": not judged
    coalesce(complete AND activated AND onboarded_month = month - INTERVAL 1 MONTH
        AND onboarding_judged AND (
        NOT active OR usage_pct < getvariable('low_engagement_usage_pct') / 100.0
    ), false) AS low_engagement,
    coalesce(complete AND activated AND prev_active_users > 0 AND active_users = 0, false) AS lost_active_users,
    CASE WHEN NOT activated THEN NULL
         WHEN f.milestones_reached THEN 'activation'
         WHEN f.ever_used THEN 'discovery'
         ELSE 'setup' END AS adoption_stage,
    CASE WHEN len(getvariable('features')) > 0 THEN f.feature_segment END AS feature_segment,
    CASE WHEN has_orders THEN coalesce(o.orders, 0) END AS orders,
    CASE WHEN has_orders THEN coalesce(o.web_orders, 0) END AS web_orders,
    o.web_orders / nullif(o.orders, 0) AS web_order_share
FROM ratios
LEFT JOIN stg_customer_features f USING (month, customer_ref)
LEFT JOIN stg_customer_orders o USING (month, customer_ref)
ORDER BY month, customer_ref
