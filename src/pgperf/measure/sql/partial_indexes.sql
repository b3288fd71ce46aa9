-- Those of the named indexes that are partial (have a WHERE predicate).
SELECT c.relname
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = ANY(%(names)s) AND i.indpred IS NOT NULL
ORDER BY 1
