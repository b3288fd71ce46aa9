-- pgperf: {"params": {"user_id": "persona", "now": "data_now"}, "indexes": ["idx_tasks_user_created"]}
-- The dashboard's status tiles: the user's tasks of the last 30 days, counted by status.
SELECT status, count(*) AS tasks
FROM tasks
WHERE user_id = %(user_id)s
  AND created_at >= %(now)s::timestamptz - interval '30 days'
GROUP BY status
ORDER BY status;
