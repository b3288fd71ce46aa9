-- The user's most used model (ties: lowest id) and the cursor of page 2 of its history
-- (or a cursor after every task when the user has fewer than 20 tasks with it).
WITH favourite AS (
    SELECT provider_model_id
    FROM tasks
    WHERE user_id = %(user_id)s
    GROUP BY provider_model_id
    ORDER BY count(*) DESC, provider_model_id
    LIMIT 1
), page_end AS (
    SELECT t.created_at, t.id
    FROM tasks t JOIN favourite f USING (provider_model_id)
    WHERE t.user_id = %(user_id)s
    ORDER BY t.created_at DESC, t.id DESC
    OFFSET 19 LIMIT 1
)
SELECT coalesce((SELECT provider_model_id FROM favourite), 1) AS provider_model_id,
       coalesce((SELECT created_at FROM page_end), %(now)s::timestamptz + interval '1 day')
           AS cursor_created_at,
       coalesce((SELECT id FROM page_end), 9223372036854775807) AS cursor_id
