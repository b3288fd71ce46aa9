-- The schema of a user index of this name (none in the system schemas).
SELECT schemaname FROM pg_indexes
WHERE indexname = %(name)s AND schemaname NOT IN ('pg_catalog', 'information_schema')
