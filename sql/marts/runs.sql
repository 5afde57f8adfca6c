-- runs: the run history (grain: run), one row per uptake run, oldest first,
-- from the warehouse's main.runs: the publishing run's own row is in it with
-- status 'running'. Columns defined in sql/marts/schema.yml.
SELECT
    run_id,
    job,
    "trigger",
    window_start,
    window_end,
    timezone('UTC', started_at) AS started_at,
    timezone('UTC', ended_at) AS ended_at,
    status,
    rows_in::VARCHAR AS rows_in,
    rows_out::VARCHAR AS rows_out,
    error,
    getvariable('published_at') AS published_at
FROM main.runs
ORDER BY started_at, run_id
