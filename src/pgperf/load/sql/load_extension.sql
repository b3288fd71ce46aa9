/* pgperf:watch */
-- The server-side view of a scenario; needs pg_stat_statements in shared_preload_libraries.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements
