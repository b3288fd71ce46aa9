-- pgperf: {"params": {"category_id": "pick:marketplace_cursor", "cursor_rating": "pick:marketplace_cursor", "cursor_usage": "pick:marketplace_cursor", "cursor_id": "pick:marketplace_cursor"}, "indexes": ["idx_agents_marketplace"], "keyset": true, "partial": true}
-- The marketplace, one category, the page after a keyset cursor: best rated first, then
-- most used. The public/active filter is literal: it repeats the partial index's predicate.
SELECT id, name, description, rating, rating_count, usage_count, user_id
FROM agents
WHERE is_public
  AND status = 'active'
  AND category_id = %(category_id)s
  AND (rating, usage_count, id) < (%(cursor_rating)s, %(cursor_usage)s, %(cursor_id)s)
ORDER BY rating DESC, usage_count DESC, id DESC
LIMIT 20;
