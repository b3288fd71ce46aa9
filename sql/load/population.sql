-- The users the simulated clients log in as, weighted by the square root of the tasks they
-- ran: activity is skewed (heavy users open the app far more often than the long tail), but
-- the heaviest user's task count comes mostly from API traffic, not from screen loads, so
-- a linear weight would turn every scenario into that one user. Every active user is in,
-- with weight 1 at least, so users without tasks show up too.
SELECT u.id AS user_id, 1 + sqrt(coalesce(t.tasks, 0)) AS weight
FROM users u
LEFT JOIN (SELECT user_id, count(*) AS tasks FROM tasks GROUP BY user_id) t ON t.user_id = u.id
WHERE u.is_active
ORDER BY u.id;
