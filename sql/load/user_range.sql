-- The user ids pgbench draws from (random(:min_user_id, :max_user_id)) when it replays
-- the scenarios; ids are dense (identity), so a uniform draw hits existing users.
SELECT min(id) AS min_user_id, max(id) AS max_user_id FROM users;
