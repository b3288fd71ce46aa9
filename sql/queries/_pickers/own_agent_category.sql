-- The category holding most of the user's agents (ties: lowest id); 1 for a user with none.
SELECT coalesce(
    (SELECT category_id
     FROM agents
     WHERE user_id = %(user_id)s
     GROUP BY category_id
     ORDER BY count(*) DESC, category_id
     LIMIT 1),
    1::smallint) AS category_id
