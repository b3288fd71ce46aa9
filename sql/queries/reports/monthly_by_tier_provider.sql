-- pgperf: {"params": {"now": "data_now"}, "indexes": ["idx_tasks_month_provider"], "seqscan": ["users"]}
-- 12 months of credits and revenue by subscription tier and provider, from raw tasks.
-- Revenue: credits valued at the tier's price per credit. The month x provider index
-- carries user_id, credits_used and created_at, so the scan is index-only. Every user's
-- tier is needed: users is read whole, once, into a hash.
SELECT date_trunc('month', t.created_at AT TIME ZONE 'UTC') AS month,
       st.name AS tier,
       p.name AS provider,
       count(*) AS tasks,
       sum(t.credits_used) AS credits_used,
       round(sum(t.credits_used * st.price_cents / nullif(st.monthly_credits, 0)) / 100, 2)
           AS revenue
FROM tasks t
JOIN users u ON u.id = t.user_id
JOIN subscription_tiers st ON st.id = u.subscription_tier_id
JOIN ai_providers p ON p.id = t.provider_id
WHERE date_trunc('month', t.created_at AT TIME ZONE 'UTC')
      >= date_trunc('month', %(now)s::timestamptz AT TIME ZONE 'UTC') - interval '11 months'
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;
