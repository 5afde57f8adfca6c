-- runs: the run history (grain: run), one row per uptake run, oldest first.
-- Published by each run from the warehouse's main.runs, so the publishing
-- run's own row is in it with status 'running', no ended_at and no counts:
-- its final status appears in the next run's publish and in `uptake history`.
--   trigger          manual, schedule or backfill
--   window_start     first month the run covered (NULL when it did not get that far)
--   window_end       last month the run covered
--   started_at       when the run started (UTC)
--   ended_at         when the run ended (UTC); NULL while running
--   status           running, success or failed
--   rows_in          JSON text: raw table → rows loaded
--   rows_out         JSON text: output table → rows built
--   error            why the run failed
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
