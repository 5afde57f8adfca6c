-- Each user key names one user id (the keys are 63-bit hashes of the ids:
-- two ids sharing one would merge two users; please report it).
SELECT user_key, count(*) AS user_ids, min(user_id) AS a_user_id
FROM stg_user_keys
GROUP BY user_key
HAVING count(*) > 1
