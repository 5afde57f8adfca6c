-- source_quality: what the analytics sources said about their numbers (grain:
-- day × source_name × report), from the GA4 Data API's report metadata. A
-- flag on a day means that day's GA4 figures are incomplete or estimated:
--   subject_to_thresholding   GA4 withheld small counts (Google signals)
--   data_loss_from_other_row  rows fell into GA4's "(other)" row (too many distinct
--                             values); other_row_count of them were left out
--   sampled                   GA4 read samples_read of sampling_space events: estimates
--   property_time_zone        the zone the property counts its days in
--   run_id                    the run that pulled the day last
-- The whole report's metadata applies to each day of its window.
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
