-- pgperf: {"params": {"now": "data_now"}}
-- Provider x day over the last 30 days: volume, cost and failure rate, read from the
-- materialized view (a few hundred rows, so a seq scan of it is the right plan).
SELECT m.day, p.name AS provider, m.tasks, m.completed, m.failed, m.failure_rate,
       m.credits_used, m.avg_latency_ms
FROM mv_provider_daily_stats m
JOIN ai_providers p ON p.id = m.provider_id
WHERE m.day >= (%(now)s::timestamptz AT TIME ZONE 'UTC')::date - 30
ORDER BY m.day, p.name;
