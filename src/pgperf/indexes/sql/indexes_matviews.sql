-- Materialized views of the database (schema-qualified), outside system schemas.
SELECT format('%s.%s', schemaname, matviewname)
  FROM pg_matviews
 WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
 ORDER BY 1
