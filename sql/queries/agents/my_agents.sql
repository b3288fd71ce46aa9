-- pgperf: {"params": {"user_id": "persona", "category_id": "pick:own_agent_category", "status": "active"}, "indexes": ["idx_agents_user_category_status|idx_agents_user_created"], "keyset": true}
-- The user's own agents in one category and status, newest first. For a user with a
-- handful of agents the planner rightly takes the narrower (user_id, created_at) index and
-- filters; with many, the (user_id, category_id, status, created_at) one: either is fine.
SELECT id, name, status, is_public, rating, usage_count, created_at, updated_at
FROM agents
WHERE user_id = %(user_id)s
  AND category_id = %(category_id)s
  AND status = %(status)s
ORDER BY created_at DESC
LIMIT 50;
