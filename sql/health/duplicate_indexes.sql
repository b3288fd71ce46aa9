-- Exact duplicates and prefix-covered indexes (the definitions live in sql/monitoring.sql's
-- duplicate_indexes view, shared with the application's maintenance tooling).
-- Fix: drop `index_name`; `covered_by` serves every query it did.
SELECT schema_name, table_name, kind, index_name, covered_by, size_bytes
  FROM duplicate_indexes
 WHERE schema_name = ANY(%(schemas)s)
   AND kind IN ('exact', 'prefix')
 ORDER BY 1, 2, 4
