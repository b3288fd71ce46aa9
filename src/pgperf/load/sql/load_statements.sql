/* pgperf:watch */
-- pg_stat_statements counters of the current database (the scenario's clone, used by nobody
-- else), so the delta over a run is the scenario's statements. Top-level only: a function's
-- inner statements would count twice.
SELECT queryid::text AS queryid,
       userid::text AS userid,
       left(regexp_replace(query, '\s+', ' ', 'g'), 300) AS query,
       calls,
       total_exec_time,
       rows,
       shared_blks_hit,
       shared_blks_read
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND toplevel
   AND query NOT LIKE '%pgperf:watch%'
