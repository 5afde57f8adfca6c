-- raw_customer_activity: usage events per day, customer and event, for
-- sources that know the customer but not the user. users is the number of
-- distinct users that day (not additive across days).
CREATE OR REPLACE TABLE raw_customer_activity (
    day DATE NOT NULL,
    customer_ref VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    count BIGINT NOT NULL,
    users BIGINT,
    source VARCHAR NOT NULL
);
