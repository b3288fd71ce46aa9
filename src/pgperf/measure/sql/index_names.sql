-- Every index name, for "did you mean" hints.
SELECT indexname FROM pg_indexes
