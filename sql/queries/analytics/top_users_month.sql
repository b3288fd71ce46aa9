-- pgperf: {"params": {"now": "data_now"}, "indexes": ["idx_tasks_created_month_user"]}
-- The 20 users who spent the most credits this (UTC) month, from raw tasks. The month
-- expression is the index's own (IMMUTABLE) expression, so the index answers it. The top 20
-- are found first and only they are joined to users: joining before aggregating would read
-- every active user's row (a Seq Scan on users once a month holds many of them).
WITH top AS (
    SELECT user_id, sum(credits_used) AS credits_used, count(*) AS tasks
    FROM tasks
    WHERE date_trunc('month', created_at AT TIME ZONE 'UTC')
          = date_trunc('month', %(now)s::timestamptz AT TIME ZONE 'UTC')
    GROUP BY user_id
    ORDER BY credits_used DESC, user_id
    LIMIT 20
)
SELECT top.user_id, u.email, top.credits_used, top.tasks
FROM top
JOIN users u ON u.id = top.user_id
ORDER BY top.credits_used DESC, top.user_id;
