-- Size of every table outside system schemas and the suite's own: heap, indexes, TOAST.
SELECT n.nspname AS schema_name,
       c.relname AS table_name,
       c.reltuples::bigint AS estimated_rows,
       pg_relation_size(c.oid) AS table_bytes,
       pg_indexes_size(c.oid) AS index_bytes,
       pg_total_relation_size(c.oid) - pg_relation_size(c.oid) - pg_indexes_size(c.oid)
           AS toast_bytes,
       pg_total_relation_size(c.oid) AS total_bytes
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'pgperf')
 ORDER BY total_bytes DESC
