-- Weekly-active customers are among the week's active customers, who are
-- among its activated customers; the rate is their ratio, and weekly-active
-- is NULL only for the first weeks (fewer than 4 weeks of history).
SELECT week, salesperson, activated_customers, active_customers, weekly_active_customers, weekly_active_rate
FROM weekly_active_customers
WHERE active_customers < 0 OR active_customers > activated_customers
   OR weekly_active_customers > active_customers
   OR weekly_active_rate NOT BETWEEN 0 AND 1
   OR (weekly_active_rate IS NULL) <> (weekly_active_customers IS NULL OR activated_customers = 0)
   OR (weekly_active_customers IS NULL) <> (week < (SELECT min(week) FROM weekly_active_customers) + 21)
   OR week <> date_trunc('week', week)
   OR week + 6 >= getvariable('as_of')
