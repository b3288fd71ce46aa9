-- pgperf: {"params": {"user_id": "persona", "now": "data_now", "provider_model_id": "pick:favourite_model", "cursor_created_at": "pick:favourite_model", "cursor_id": "pick:favourite_model"}, "indexes": ["idx_tasks_user_model_created"], "keyset": true}
-- The playground history filtered on one model (the user's most used), after a cursor.
SELECT id, created_at, status, task_type, input_tokens, output_tokens, credits_used,
       latency_ms
FROM tasks
WHERE user_id = %(user_id)s
  AND provider_model_id = %(provider_model_id)s
  AND (created_at, id) < (%(cursor_created_at)s, %(cursor_id)s)
ORDER BY created_at DESC, id DESC
LIMIT 20;
