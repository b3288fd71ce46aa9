-- A small hand-made platform data set for the index/monitoring tests (no seeding needed):
-- 2 tiers, 2 providers, 4 models, 20 users, 3 categories, 10 agents, 5 campaigns,
-- 2,000 tasks over the last 60 days (today's include a failure per provider), content, ledger.
INSERT INTO subscription_tiers (name, price_cents, monthly_credits)
VALUES ('free', 0, 100), ('pro', 2000, 5000);

INSERT INTO ai_providers (name, slug) VALUES ('OpenAI', 'openai'), ('Anthropic', 'anthropic');

INSERT INTO provider_models (provider_id, name, modality, cost_per_1k_tokens, context_window, min_tier_id)
SELECT 1 + (g % 2), 'model-' || g, 'text', 0.5 * g, 8192, 1 + (g % 2)
FROM generate_series(1, 4) AS g;

INSERT INTO users (email, full_name, subscription_tier_id, created_at, last_login_at)
SELECT 'user' || g || '@example.com', 'User ' || g, 1 + (g % 2),
       now() - interval '400 days', now() - g * interval '1 hour'
FROM generate_series(1, 20) AS g;

INSERT INTO agent_categories (name, slug, sort_order)
VALUES ('Writing', 'writing', 1), ('Images', 'images', 2), ('Code', 'code', 3);

INSERT INTO agents (user_id, category_id, name, description, configuration, status, is_public,
                    rating, usage_count)
SELECT 1 + (g % 20), 1 + (g % 3), 'Agent ' || g, 'Writes things number ' || g,
       jsonb_build_object('tone', CASE WHEN g % 2 = 0 THEN 'formal' ELSE 'casual' END),
       'active', g % 2 = 0, (g % 5)::numeric, g * 10
FROM generate_series(1, 10) AS g;

INSERT INTO campaigns (user_id, name, campaign_type, status, metrics)
SELECT 1 + (g % 20), 'Campaign ' || g, 'email', 'active', jsonb_build_object('opens', g)
FROM generate_series(1, 5) AS g;

-- created_at spreads over 60 days; the most recent task of each provider failed.
INSERT INTO tasks (user_id, provider_model_id, provider_id, task_type, source, status,
                   request_payload, input_tokens, output_tokens, credits_used, latency_ms,
                   error_code, created_at, started_at, completed_at)
SELECT 1 + (g % 20), 1 + (g % 4), 1 + ((1 + (g % 4)) % 2), 'text_generation',
       CASE WHEN g % 3 = 0 THEN 'playground' ELSE 'api' END::task_source,
       CASE WHEN g <= 2 THEN 'failed' ELSE 'completed' END::task_status,
       jsonb_build_object('prompt', 'p' || g), 10, 20, 1.5,
       CASE WHEN g <= 2 THEN NULL ELSE 100 END,
       CASE WHEN g <= 2 THEN 'timeout' END,
       ts, ts, ts + interval '1 second'
FROM generate_series(1, 2000) AS g,
     LATERAL (SELECT now() - (g * interval '43 minutes') AS ts) AS t;

INSERT INTO generated_content (task_id, user_id, content_type, title, storage_url, size_bytes,
                               is_public, downloads)
SELECT g, 1 + (g % 20), 'text', 'Content ' || g, 's3://bucket/' || g, 1000, g % 2 = 0, g
FROM generate_series(1, 200) AS g;

INSERT INTO credit_ledger (user_id, task_id, delta, reason)
SELECT 1 + (g % 20), g, -1.5, 'task_charge' FROM generate_series(1, 200) AS g;

ANALYZE;
