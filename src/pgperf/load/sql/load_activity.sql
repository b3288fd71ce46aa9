/* pgperf:watch */
-- One sample of what the scenario's backends are doing: on CPU, waiting on a lock, on I/O,
-- or idle in a transaction waiting for the client.
SELECT pid,
       state,
       coalesce(wait_event_type, '') AS wait_event_type,
       coalesce(wait_event, '') AS wait_event
  FROM pg_stat_activity
 WHERE datname = current_database()
   AND application_name = %(app)s
   AND pid <> pg_backend_pid()
