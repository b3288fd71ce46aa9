-- pgperf: {"params": {"now": "data_now"}, "indexes": ["idx_credit_ledger_month_reason"]}
-- 12 months of the credit ledger by month and reason: charges, grants, purchases, refunds.
-- Index-only on the month x reason index (it carries delta and created_at).
SELECT date_trunc('month', created_at AT TIME ZONE 'UTC') AS month,
       reason,
       count(*) AS entries,
       sum(delta) AS credits
FROM credit_ledger
WHERE date_trunc('month', created_at AT TIME ZONE 'UTC')
      >= date_trunc('month', %(now)s::timestamptz AT TIME ZONE 'UTC') - interval '11 months'
GROUP BY 1, 2
ORDER BY 1, 2;
