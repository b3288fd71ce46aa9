-- pgperf: {"params": {"user_id": "persona", "now": "data_now", "cursor_created_at": "pick:playground_cursor", "cursor_id": "pick:playground_cursor"}, "indexes": ["idx_tasks_playground_user_created"], "keyset": true, "partial": true}
-- The user's playground history, the page after a keyset cursor (newest first).
-- source = 'playground' is a literal: it repeats the partial index's predicate.
SELECT id, created_at, status, task_type, provider_model_id, input_tokens, output_tokens,
       credits_used, latency_ms
FROM tasks
WHERE user_id = %(user_id)s
  AND source = 'playground'
  AND (created_at, id) < (%(cursor_created_at)s, %(cursor_id)s)
ORDER BY created_at DESC, id DESC
LIMIT 20;
