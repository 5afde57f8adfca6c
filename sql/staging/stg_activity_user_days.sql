-- stg_activity_user_days: one row per day, customer (as the activity row
-- gives it, NULL when it gives none) and user with activity, the user named
-- by the key of its id: the one scan of raw_activity every user-level KPI
-- reads from (10 M rows → a few million user-days), aggregated from the
-- activity alone, so that a users snapshot leaves it as it was
-- (stg_user_days adds the users' keys and customers).
--   id_key:      (hash(user_id) >> 1)::BIGINT, the key stg_user_keys gives
--                the id: stg_user_days finds the user of the export by it.
--                Grouping and storing that integer rather than the id's text
--                takes a fifth to a third less time (10 M activity rows: 1.5
--                to 1.8 s against 1.8 to 2.7 s). The price is the hash's:
--                two ids with one key count as one user here, and an id
--                missing from the users export (a GA4 pseudo id) whose key
--                is a user's of the export is taken for that user. With a
--                million users and ten million ids missing from the export,
--                the odds are about 1 in 10^6, below those of two missing ids
--                sharing a negative key (62 bits, stg_user_days: about 1 in
--                10^5). Two users of the export with one key fail the run
--                (sql/tests/test_user_keys_unique.sql).
--   portal_view_count, download_count, share_count: those events, when they
--                are score events (kpi.score_events): the establishments export
--                counts them too, and its counts win when it has them
--   other_score_count: the other score events (the export does not count them)
--   usage_count: events that make the user active (kpi.usage_events; all when empty)
-- Sums are cast back to BIGINT: DuckDB sums BIGINT into HUGEINT, which is
-- several times slower to store and scan.
-- @month: date_trunc('month', day)::DATE
SELECT
    day,
    customer_ref,
    (hash(user_id) >> 1)::BIGINT AS id_key,
    sum(count) FILTER (WHERE event = 'portal_view' AND list_contains(getvariable('score_events'), event))::BIGINT AS portal_view_count,
    sum(count) FILTER (WHERE event = 'download' AND list_contains(getvariable('score_events'), event))::BIGINT AS download_count,
    sum(count) FILTER (WHERE event = 'share' AND list_contains(getvariable('score_events'), event))::BIGINT AS share_count,
    sum(count) FILTER (WHERE list_contains(getvariable('score_events'), event)
                       AND event NOT IN ('portal_view', 'download', 'share'))::BIGINT AS other_score_count,
    sum(count) FILTER (WHERE len(getvariable('usage_events')) = 0 OR list_contains(getvariable('usage_events'), event))::BIGINT AS usage_count
FROM raw_activity
WHERE day < getvariable('as_of')
GROUP BY ALL
