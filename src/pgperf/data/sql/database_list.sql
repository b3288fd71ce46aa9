-- Databases whose name starts with a prefix (its _ escaped by the caller), by name.
SELECT datname FROM pg_database WHERE datname LIKE %(pattern)s ORDER BY datname
