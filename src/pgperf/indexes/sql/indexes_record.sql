INSERT INTO pgperf.applied_indexes (name, table_name, statement_hash, line, seconds, size_bytes)
VALUES (%(name)s, %(table_name)s, %(statement_hash)s, %(line)s, %(seconds)s, %(size_bytes)s)
ON CONFLICT (name) DO UPDATE
   SET table_name = EXCLUDED.table_name, statement_hash = EXCLUDED.statement_hash,
       line = EXCLUDED.line, seconds = EXCLUDED.seconds, size_bytes = EXCLUDED.size_bytes,
       applied_at = now()
