-- stg_months: the months the run reports on, one row per month.
-- From the first establishments export to the last month holding data,
-- up to the month of the day before the as-of date (a run reports data up
-- to yesterday: on the 1st, the new month has no day yet and is left out). A month is complete once it
-- has ended before the as-of date and its establishments export is in; the
-- current month, and a month over whose export has not arrived yet (the
-- grace days of establishments.expect_by_day), are "to date".
-- @month: month
-- @lookback: raw_customers all
WITH data_months AS (
    SELECT DISTINCT month FROM raw_customers
    UNION SELECT DISTINCT date_trunc('month', day)::DATE FROM raw_activity
    UNION SELECT DISTINCT date_trunc('month', day)::DATE FROM raw_customer_activity
)
SELECT
    month,
    (month + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE AS month_end,
    month + INTERVAL 1 MONTH <= getvariable('as_of')
        AND month IN (SELECT month FROM raw_customers) AS complete,
    -- days of the month that have happened (for daily averages of the current month)
    least(datediff('day', month, month + INTERVAL 1 MONTH), greatest(datediff('day', month, getvariable('as_of')), 0)) AS days_elapsed
FROM data_months
WHERE month >= (SELECT min(month) FROM raw_customers)
  AND month < getvariable('as_of')
