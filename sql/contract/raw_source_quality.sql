-- raw_source_quality: what an analytics source said about the quality of its
-- numbers, per day and report (GA4 Data API metadata), kept like the data:
-- a day pulled again replaces its row.
CREATE OR REPLACE TABLE raw_source_quality (
    day DATE,
    source_name VARCHAR,
    report VARCHAR,
    subject_to_thresholding BOOLEAN,
    data_loss_from_other_row BOOLEAN,
    other_row_count BIGINT,
    sampled BOOLEAN,
    samples_read BIGINT,
    sampling_space BIGINT,
    property_time_zone VARCHAR,
    run_id VARCHAR,
    source VARCHAR
);
