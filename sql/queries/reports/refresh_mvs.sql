-- pgperf: {"write": 1}
-- The nightly job: refresh the analytics materialized views without blocking readers
-- (measured in a rolled-back transaction, so the views never change between rounds).
SELECT refresh_analytics_views(true);
