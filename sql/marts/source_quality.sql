-- source_quality: what the analytics sources said about their numbers (grain:
-- day × source_name × report), from the GA4 Data API's report metadata; the
-- whole report's metadata applies to each day of its window. Columns defined
-- in sql/marts/schema.yml.
SELECT
    day,
    source_name,
    report,
    subject_to_thresholding,
    data_loss_from_other_row,
    other_row_count,
    sampled,
    samples_read,
    sampling_space,
    property_time_zone,
    run_id,
    getvariable('published_at') AS published_at
FROM raw_source_quality
ORDER BY day, source_name, report
