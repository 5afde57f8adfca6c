-- stg_weekly_weeks: the complete ISO weeks the run reports on, one row per
-- week, for the weekly-active customers. Weeks run from the first Monday on
-- or after the first reported month's first day (stg_months) to the last
-- complete week: its Sunday is before the as-of date (data runs up to the
-- day before) and in a reported month.
--   week         the week's Monday
--   month        the month of the week's Sunday: its customer rows (salesperson,
--                activated) credit the week
--   has_history  the 4 weeks ending with this one are all reported, so that
--                weekly-active customers are defined (false for the first 3 weeks)
WITH bounds AS (
    SELECT
        min(month) + ((8 - isodow(min(month))) % 7)::INTEGER AS first_week,
        least(max(month_end), getvariable('as_of') - 1) AS last_sunday
    FROM stg_months
),
weeks AS (
    SELECT w.week::DATE AS week, b.first_week
    FROM bounds b, range(b.first_week, b.last_sunday - 5, INTERVAL 7 DAY) w(week)
)
SELECT
    w.week,
    m.month,
    w.week >= w.first_week + 21 AS has_history
FROM weeks w
JOIN stg_months m ON m.month = date_trunc('month', w.week + 6)
ORDER BY w.week
