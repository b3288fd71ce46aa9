-- Indexes a failed CREATE INDEX CONCURRENTLY / REINDEX left INVALID or not ready: they cost
-- every write and serve no read. Fix: DROP INDEX and create it again (or REINDEX it).
SELECT n.nspname AS schema_name, t.relname AS table_name, c.relname AS index_name
  FROM pg_index AS i
  JOIN pg_class AS c ON c.oid = i.indexrelid
  JOIN pg_class AS t ON t.oid = i.indrelid
  JOIN pg_namespace AS n ON n.oid = t.relnamespace
 WHERE n.nspname = ANY(%(schemas)s)
   AND NOT (i.indisvalid AND i.indisready)
 ORDER BY 1, 2, 3
