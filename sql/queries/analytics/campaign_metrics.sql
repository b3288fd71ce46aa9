-- pgperf: {"params": {"filter": {"conversions": 0}}, "indexes": ["idx_campaigns_metrics_gin"]}
-- Campaigns that have not converted yet: a jsonb containment filter on the metrics, which
-- the jsonb_path_ops GIN index answers (it indexes path + value pairs such as this one).
SELECT id, user_id, name, campaign_type, status, metrics, budget_cents, starts_at
FROM campaigns
WHERE metrics @> %(filter)s
ORDER BY id DESC
LIMIT 50;
