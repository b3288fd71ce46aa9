-- pgperf: {"params": {"user_id": "persona"}, "indexes": ["idx_tasks_user_created"], "keyset": true}
-- The 20 latest tasks, first page of a keyset list (newest first, id breaks ties).
SELECT id, task_type, source, status, provider_model_id, credits_used, latency_ms,
       created_at, completed_at
FROM tasks
WHERE user_id = %(user_id)s
ORDER BY created_at DESC, id DESC
LIMIT 20;
