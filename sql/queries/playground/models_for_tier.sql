-- pgperf: {"params": {"user_id": "persona"}, "indexes": ["users_pkey"]}
-- Models the user's subscription tier may use, by provider and cost. provider_models has
-- about a hundred rows: a seq scan of its few pages is the right plan, so none is expected.
SELECT p.name AS provider, m.id, m.name, m.modality, m.cost_per_1k_tokens, m.context_window
FROM users u
JOIN subscription_tiers ut ON ut.id = u.subscription_tier_id
JOIN provider_models m ON m.is_active
JOIN subscription_tiers mt ON mt.id = m.min_tier_id AND mt.price_cents <= ut.price_cents
JOIN ai_providers p ON p.id = m.provider_id AND p.is_active
WHERE u.id = %(user_id)s
ORDER BY m.provider_id, m.cost_per_1k_tokens, m.id;
