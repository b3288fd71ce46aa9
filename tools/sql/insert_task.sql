-- The playground's task INSERT (a new pending task), as the write path issues it.
INSERT INTO tasks (user_id, provider_model_id, provider_id, task_type, source, status,
                   request_payload)
VALUES (%(user_id)s, %(model_id)s, %(provider_id)s, 'text_generation', 'playground', 'pending',
        %(payload)s)
