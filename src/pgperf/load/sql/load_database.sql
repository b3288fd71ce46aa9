/* pgperf:watch */
-- Database-wide counters whose delta over a run the scenario reports.
SELECT deadlocks, xact_commit, xact_rollback
  FROM pg_stat_database
 WHERE datname = current_database()
