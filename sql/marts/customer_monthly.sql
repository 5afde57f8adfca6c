-- customer_monthly: one row per customer per month (grain: month × customer_ref).
--   activated        not archived and has portal access
--   score            activity score (stg_customer_scores)
--   active           activated and score >= kpi.active_min_score
--   score_mom        (score - prev_score) / prev_score; NULL when prev_score = 0,
--                    without a previous month, or for the month to date
--   champion         active and in the top kpi.champion_top_pct % of the month's
--                    active customers by score (at least one; ties included),
--                    or with score >= kpi.champion_min_score when that is set
--   churn_risk       complete month, not archived, active last month, and now
--                    inactive or score down by >= kpi.drop_alert_pct %
--   usage_pct        active_users / users
--   license_utilization  active_users / seats (activated customers with seats; NULL
--                    without a users export as of the run)
--   prev_license_utilization  last month's, when the customer was activated then; NULL
--                    for the month to date
--   low_utilization  license_utilization < kpi.low_utilization_pct %
--   utilization_increasing  up by >= kpi.increasing_utilization_pts points on last month
--   low_engagement   in the first complete month after its onboarding month (about 30
--                    days in), activated and not active or with usage_pct below
--                    kpi.low_engagement_usage_pct %; customers already activated in the
--                    first reported month were onboarded before the data: not judged
--   lost_active_users  complete month, activated, had active users last month and has
--                    none now (the key user may have left)
--   adoption_stage   activated customers only (else NULL): 'activation' once it has done
--                    every kpi.milestone_events (when set), 'discovery' once it has used
--                    the portal (a usage event), else 'setup' (it has access, no use yet)
--   feature_segment  the kpi.features used this month ('search + reorder', 'none'); NULL
--                    without kpi.features
--   orders, web_orders, web_order_share  orders of the month from an order source other
--                    than the web shop's analytics (an ERP export), those placed on the
--                    site, and their share; NULL without such a source
SELECT * REPLACE (
    -- the first month activated, of all the customer's months (int_customer_monthly's is up to the row's month)
    min(onboarded_month) OVER (PARTITION BY customer_ref) AS onboarded_month,
    getvariable('published_at') AS published_at
)
FROM int_customer_monthly
ORDER BY month, customer_ref
