-- pgperf: {"params": {"user_id": "persona", "now": "data_now", "provider_model_id": "pick:favourite_model", "payload": {"model": "playground", "prompt": "Write a product description for a reusable water bottle", "temperature": 0.7, "max_tokens": 512}}, "write": 1}
-- The playground submits a prompt: a pending task on the chosen model.
INSERT INTO tasks (user_id, provider_model_id, provider_id, task_type, source, status,
                   request_payload)
SELECT %(user_id)s, m.id, m.provider_id, 'text_generation', 'playground', 'pending',
       %(payload)s
FROM provider_models m
WHERE m.id = %(provider_model_id)s
RETURNING id AS task_id;
