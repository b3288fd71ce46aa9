-- The comment of a database: pgperf marks the databases it creates there.
SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %(name)s
