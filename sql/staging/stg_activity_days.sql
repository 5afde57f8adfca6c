-- stg_activity_days: daily active users per salesperson and for all
-- (salesperson IS NULL), one row per day with activity.
SELECT day, month, salesperson, count(DISTINCT user_key) AS dau
FROM stg_active_user_days
GROUP BY GROUPING SETS ((day, month, salesperson), (day, month))
