-- pgperf: {"params": {"user_id": "persona", "now": "data_now"}, "indexes": ["idx_tasks_user_month"]}
-- A year of one user's usage, month by month (index-only on the user x month index).
SELECT date_trunc('month', created_at AT TIME ZONE 'UTC') AS month,
       count(*) AS tasks,
       sum(credits_used) AS credits_used,
       sum(input_tokens + output_tokens) AS tokens
FROM tasks
WHERE user_id = %(user_id)s
  AND date_trunc('month', created_at AT TIME ZONE 'UTC')
      >= date_trunc('month', %(now)s::timestamptz AT TIME ZONE 'UTC') - interval '11 months'
GROUP BY 1
ORDER BY 1;
