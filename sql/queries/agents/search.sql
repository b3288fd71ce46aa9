-- pgperf: {"params": {"pattern": "pick:search_term"}, "indexes": ["idx_agents_name_trgm", "idx_agents_description_trgm"], "partial": true}
-- Marketplace text search on name and description (ILIKE on a pattern, pg_trgm GIN indexes).
SELECT id, name, category_id, rating, usage_count
FROM agents
WHERE is_public
  AND status = 'active'
  AND (name ILIKE %(pattern)s OR description ILIKE %(pattern)s)
ORDER BY rating DESC, usage_count DESC, id DESC
LIMIT 20;
