SELECT name, table_name, seconds, size_bytes FROM pgperf.applied_indexes
 ORDER BY size_bytes DESC LIMIT %(limit)s
