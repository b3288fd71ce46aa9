-- Those of the named relations that hold at least %(min_rows)s rows by the planner's statistics.
SELECT relname FROM pg_class
WHERE relname = ANY(%(names)s) AND reltuples >= %(min_rows)s
ORDER BY 1
