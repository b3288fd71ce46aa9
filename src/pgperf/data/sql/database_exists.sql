-- Whether a database of this name exists.
SELECT 1 FROM pg_database WHERE datname = %(name)s
