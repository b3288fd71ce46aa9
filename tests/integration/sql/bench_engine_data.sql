-- A small platform data set for the measurement engine's tests (tests/integration/test_bench_engine.py):
-- 2000 users (a "large" table for the seq-scan rule), 20000 tasks, a few live ones for user 1,
-- the personas and the data's reference time that seeding would record.
INSERT INTO subscription_tiers (name, price_cents, monthly_credits) VALUES ('free', 0, 100);
INSERT INTO ai_providers (name, slug) VALUES ('P', 'p');
INSERT INTO provider_models (provider_id, name, modality, cost_per_1k_tokens, context_window, min_tier_id)
VALUES (1, 'm', 'text', 0.01, 8000, 1);
INSERT INTO users (email, full_name, subscription_tier_id, credits_balance, created_at)
SELECT 'u' || g || '@example.com', 'User ' || g, 1, 1000, '2025-01-01'
FROM generate_series(1, 2000) AS g;
INSERT INTO tasks (user_id, provider_model_id, provider_id, task_type, source, status,
                   request_payload, credits_used, latency_ms, created_at, started_at, completed_at)
SELECT 1 + g % 2000, 1, 1, 'text_generation', 'playground', 'completed', '{"model": "m"}', 0.01, 100,
       t, t, t
FROM generate_series(1, 20000) AS g,
     LATERAL (SELECT timestamptz '2026-11-01 12:00+00' - g * interval '1 minute' AS t) AS ts;
INSERT INTO tasks (user_id, provider_model_id, provider_id, task_type, source, status,
                   request_payload, created_at)
SELECT 1, 1, 1, 'text_generation', 'playground', 'pending', '{}', '2026-11-01 11:00+00'
FROM generate_series(1, 5);
CREATE INDEX idx_test_tasks_user_created ON tasks (user_id, created_at DESC, id DESC);
CREATE INDEX idx_test_tasks_active ON tasks (user_id, created_at DESC)
    WHERE status IN ('pending', 'queued', 'running');
CREATE SCHEMA IF NOT EXISTS pgperf;
CREATE TABLE pgperf.personas (persona text PRIMARY KEY, user_id bigint NOT NULL);
INSERT INTO pgperf.personas VALUES ('heavy', 1), ('median', 1000), ('cold', 2000);
INSERT INTO pgperf.meta (key, value) VALUES ('data_now', '2026-11-01T12:00:00+00:00');
