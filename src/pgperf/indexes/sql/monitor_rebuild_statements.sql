-- REINDEX INDEX CONCURRENTLY statements for bloated or invalid indexes (sql/monitoring.sql).
SELECT index_name, reason, statement
  FROM rebuild_index_statements(%(max_leaf_density)s, %(min_size_bytes)s)
