-- raw_activity: usage events per day, customer, user and event.
CREATE OR REPLACE TABLE raw_activity (
    day DATE NOT NULL,
    customer_ref VARCHAR,
    user_id VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    count BIGINT NOT NULL,
    source VARCHAR NOT NULL
);
