-- The cursor of page 2 of a user's playground history: the 20th newest playground task.
-- A user with fewer gets a cursor after every task, so the query reads page 1.
SELECT cursor_created_at, cursor_id
FROM (
    (SELECT created_at AS cursor_created_at, id AS cursor_id, 0 AS fallback
     FROM tasks
     WHERE user_id = %(user_id)s AND source = 'playground'
     ORDER BY created_at DESC, id DESC
     OFFSET 19 LIMIT 1)
    UNION ALL
    SELECT %(now)s::timestamptz + interval '1 day', 9223372036854775807, 1
) AS candidates
ORDER BY fallback
LIMIT 1
