-- load_rejects: rows a source could not read during this run (connection-local;
-- the run copies them into the persistent rejects table with its run id).
CREATE OR REPLACE TEMP TABLE load_rejects (
    source VARCHAR NOT NULL,
    target_table VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    line BIGINT,
    "column" VARCHAR,
    reason VARCHAR NOT NULL,
    raw_line VARCHAR
);
