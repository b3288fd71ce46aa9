-- pgperf: {"params": {"now": "data_now"}, "indexes": ["idx_tasks_created_month_user"]}
-- The 20 users who spent the most credits this (UTC) month, from raw tasks. The month
-- expression is the index's own (IMMUTABLE) expression, so the index answers it.
SELECT t.user_id, u.email, sum(t.credits_used) AS credits_used, count(*) AS tasks
FROM tasks t
JOIN users u ON u.id = t.user_id
WHERE date_trunc('month', t.created_at AT TIME ZONE 'UTC')
      = date_trunc('month', %(now)s::timestamptz AT TIME ZONE 'UTC')
GROUP BY t.user_id, u.email
ORDER BY credits_used DESC, t.user_id
LIMIT 20;
