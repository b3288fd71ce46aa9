-- Columns of type json (text re-parsed on every access, no equality, no GIN index).
-- Fix: ALTER COLUMN ... TYPE jsonb.
SELECT n.nspname AS schema_name, c.relname AS table_name, a.attname AS column_name
  FROM pg_attribute AS a
  JOIN pg_class AS c ON c.oid = a.attrelid
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname = ANY(%(schemas)s)
   AND a.attnum > 0
   AND NOT a.attisdropped
   AND a.atttypid = 'json'::regtype
 ORDER BY 1, 2, 3
