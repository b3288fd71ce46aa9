SELECT name, statement_hash, table_name FROM pgperf.applied_indexes
