-- Those of the named indexes that exist in this database.
SELECT relname FROM pg_class WHERE relkind = 'i' AND relname = ANY(%(names)s)
