-- pgperf: {"params": {"user_id": "persona", "now": "data_now"}, "indexes": ["idx_tasks_user_created"]}
-- Credits the user spent since the start of the current (UTC) month.
SELECT coalesce(sum(credits_used), 0) AS credits_used, count(*) AS tasks
FROM tasks
WHERE user_id = %(user_id)s
  AND created_at >= date_trunc('month', %(now)s::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
  AND created_at <= %(now)s::timestamptz;
