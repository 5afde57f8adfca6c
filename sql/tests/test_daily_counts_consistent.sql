-- Daily active users never exceed the rolling weekly, nor weekly the rolling monthly.
SELECT day, dau, wau, mau FROM kpi_daily WHERE dau > wau OR wau > mau OR dau < 0
