-- Indexes sharing their leading key column where neither covers the other: often deliberate
-- (different second columns for different queries); reported for review, never a failure.
SELECT schema_name, table_name, index_name, covered_by AS shares_leading_column_with
  FROM duplicate_indexes
 WHERE schema_name = ANY(%(schemas)s)
   AND kind = 'intersection'
 ORDER BY 1, 2, 3, 4
