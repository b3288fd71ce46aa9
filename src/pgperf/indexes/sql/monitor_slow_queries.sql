-- pg_stat_statements entries of this database above a mean execution time (sql/monitoring.sql).
SELECT queryid, query, calls, total_exec_time, mean_exec_time, max_exec_time, rows,
       shared_blks_hit, shared_blks_read
  FROM slow_queries(%(min_mean_ms)s)
 LIMIT %(limit)s
