-- Per-index counters of sql/monitoring.sql's index_usage_stats (cumulative, this database).
SELECT schema_name, table_name, index_name, scans, tuples_read, tuples_fetched, size_bytes,
       category, serves, is_unique, unused
  FROM index_usage_stats
 ORDER BY schema_name, table_name, index_name
