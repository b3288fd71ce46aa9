-- Tables with no primary key: rows cannot be addressed reliably (and logical replication
-- cannot replicate their UPDATEs/DELETEs). Fix: add a PRIMARY KEY.
SELECT n.nspname AS schema_name, c.relname AS table_name
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND NOT c.relispartition
   AND n.nspname = ANY(%(schemas)s)
   AND NOT EXISTS (SELECT 1 FROM pg_constraint AS con
                    WHERE con.conrelid = c.oid AND con.contype = 'p')
 ORDER BY 1, 2
