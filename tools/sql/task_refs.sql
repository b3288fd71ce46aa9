-- An active user and an active model to insert tasks for.
SELECT u.id AS user_id, m.id AS model_id, m.provider_id
  FROM users AS u
 CROSS JOIN provider_models AS m
 WHERE u.is_active AND m.is_active
 ORDER BY u.id, m.id
 LIMIT 1
