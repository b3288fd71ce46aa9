DELETE FROM pgperf.applied_indexes WHERE name = %(name)s
