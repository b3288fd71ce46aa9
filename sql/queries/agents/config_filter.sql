-- pgperf: {"params": {"filter": "pick:agent_config_filter"}, "indexes": ["idx_agents_configuration_gin"]}
-- Marketplace agents whose configuration contains a filter (e.g. a model), jsonb @>.
SELECT id, name, category_id, rating, usage_count, configuration
FROM agents
WHERE configuration @> %(filter)s
  AND is_public
  AND status = 'active'
ORDER BY rating DESC, usage_count DESC, id DESC
LIMIT 20;
