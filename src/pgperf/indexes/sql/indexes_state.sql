-- The state of one index by name in the current search path: whether it exists, whether it
-- is valid (a failed CREATE INDEX CONCURRENTLY leaves it INVALID) and its size.
SELECT i.indisvalid AND i.indisready AS is_valid,
       pg_relation_size(i.indexrelid) AS size_bytes
  FROM pg_index AS i
 WHERE i.indexrelid = to_regclass(%(name)s)
