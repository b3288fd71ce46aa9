-- pgperf: {"params": {"user_id": "persona"}, "indexes": ["idx_tasks_active_user_created"], "keyset": true, "partial": true}
-- Tasks still in flight. The statuses are literals on purpose: they repeat the partial
-- index's predicate, so even a generic plan can prove it and use the small index.
SELECT id, task_type, status, provider_model_id, created_at, started_at
FROM tasks
WHERE user_id = %(user_id)s
  AND status IN ('pending', 'queued', 'running')
ORDER BY created_at DESC
LIMIT 50;
