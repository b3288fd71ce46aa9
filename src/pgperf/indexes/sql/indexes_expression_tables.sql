-- Tables of the given indexes that index an expression: only those need a new ANALYZE
-- (statistics on the expression); a plain-column index gets its size stats from CREATE INDEX.
SELECT DISTINCT n.nspname, t.relname
  FROM pg_index AS i
  JOIN pg_class AS c ON c.oid = i.indexrelid
  JOIN pg_class AS t ON t.oid = i.indrelid
  JOIN pg_namespace AS n ON n.oid = t.relnamespace
 WHERE c.relname = ANY(%(names)s)
   AND i.indexprs IS NOT NULL
 ORDER BY 1, 2
