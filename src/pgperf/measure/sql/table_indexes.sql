-- The indexes of the named tables (those the search path sees), table by table.
SELECT t.relname AS table_name, i.relname AS index_name
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relname = ANY(%(names)s)
  AND pg_table_is_visible(t.oid)
ORDER BY t.relname, i.relname;
