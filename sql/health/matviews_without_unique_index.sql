-- Materialized views without a plain unique index (valid, no predicate, no expression):
-- REFRESH MATERIALIZED VIEW CONCURRENTLY refuses them, and a plain REFRESH locks readers out.
-- Fix: CREATE UNIQUE INDEX on the view's key columns.
SELECT n.nspname AS schema_name, c.relname AS view_name
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
 WHERE c.relkind = 'm'
   AND n.nspname = ANY(%(schemas)s)
   AND NOT EXISTS (SELECT 1 FROM pg_index AS i
                    WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid
                      AND i.indpred IS NULL AND i.indexprs IS NULL)
 ORDER BY 1, 2
