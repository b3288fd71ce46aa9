-- CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template.
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = %(name)s AND pid <> pg_backend_pid()
