-- Foreign keys whose columns do not lead any valid, non-partial index of the referencing
-- table: deleting or re-keying a referenced row then scans the whole referencing table.
-- Fix: an index whose leading columns are the key's columns (in any order).
SELECT n.nspname AS schema_name,
       t.relname AS table_name,
       con.conname AS constraint_name,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) AS k(attnum)
               JOIN pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              ORDER BY a.attnum)::text AS columns
  FROM pg_constraint AS con
  JOIN pg_class AS t ON t.oid = con.conrelid
  JOIN pg_namespace AS n ON n.oid = t.relnamespace
 WHERE con.contype = 'f'
   AND n.nspname = ANY(%(schemas)s)
   AND NOT EXISTS (
       SELECT 1
         FROM pg_index AS i
        WHERE i.indrelid = con.conrelid
          AND i.indisvalid
          AND i.indpred IS NULL
          AND i.indnkeyatts >= cardinality(con.conkey)
          AND (i.indkey::int2[])[0:cardinality(con.conkey) - 1] @> con.conkey
          AND (i.indkey::int2[])[0:cardinality(con.conkey) - 1] <@ con.conkey)
 ORDER BY 1, 2, 3
