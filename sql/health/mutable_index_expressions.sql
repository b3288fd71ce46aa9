-- Index expressions and predicates calling a function (directly or through an operator)
-- that is not IMMUTABLE — e.g. a wrapper declared IMMUTABLE when the index was built and
-- ALTERed to STABLE since. Such an index can silently return wrong rows. The function ids
-- are read from the stored expression trees (pg_index.indexprs / indpred), because
-- pg_depend does not record dependencies on built-in functions.
WITH trees AS (
    SELECT n.nspname AS schema_name, t.relname AS table_name, c.relname AS index_name,
           coalesce(i.indexprs::text, '') || ' ' || coalesce(i.indpred::text, '') AS tree
      FROM pg_index AS i
      JOIN pg_class AS c ON c.oid = i.indexrelid
      JOIN pg_class AS t ON t.oid = i.indrelid
      JOIN pg_namespace AS n ON n.oid = t.relnamespace
     WHERE n.nspname = ANY(%(schemas)s)
       AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)
), called AS (
    SELECT tr.schema_name, tr.table_name, tr.index_name, m[1]::oid AS function_oid
      FROM trees AS tr
     CROSS JOIN LATERAL regexp_matches(tr.tree, ':(?:funcid|opfuncid) (\d+)', 'g') AS m
    UNION
    SELECT tr.schema_name, tr.table_name, tr.index_name, o.oprcode::oid
      FROM trees AS tr
     CROSS JOIN LATERAL regexp_matches(tr.tree, ':opno (\d+)', 'g') AS m
      JOIN pg_operator AS o ON o.oid = m[1]::oid
)
SELECT DISTINCT cl.schema_name, cl.table_name, cl.index_name,
       p.oid::regprocedure::text AS function,
       CASE p.provolatile WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END AS volatility
  FROM called AS cl
  JOIN pg_proc AS p ON p.oid = cl.function_oid
 WHERE p.provolatile <> 'i'
 ORDER BY 1, 2, 3, 4
