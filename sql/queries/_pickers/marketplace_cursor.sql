-- The marketplace category with the most agents (ties: lowest id) and the cursor of its
-- page 2: the 20th agent in (rating, usage_count, id) order, or one above every agent.
WITH category AS (
    SELECT category_id
    FROM agents
    WHERE is_public AND status = 'active'
    GROUP BY category_id
    ORDER BY count(*) DESC, category_id
    LIMIT 1
), page_end AS (
    SELECT a.rating, a.usage_count, a.id
    FROM agents a JOIN category c USING (category_id)
    WHERE a.is_public AND a.status = 'active'
    ORDER BY a.rating DESC, a.usage_count DESC, a.id DESC
    OFFSET 19 LIMIT 1
)
SELECT coalesce((SELECT category_id FROM category), 1::smallint) AS category_id,
       coalesce((SELECT rating FROM page_end), 9.99) AS cursor_rating,
       coalesce((SELECT usage_count FROM page_end), 9223372036854775807) AS cursor_usage,
       coalesce((SELECT id FROM page_end), 9223372036854775807) AS cursor_id
