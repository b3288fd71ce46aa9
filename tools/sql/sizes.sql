-- Bytes of the platform's tables (heap + TOAST), of the indexes PRIMARY KEY / UNIQUE create,
-- of the performance indexes (recorded by pgperf.indexes) and of the materialized views.
WITH platform_tables AS (
    SELECT c.oid FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r'
), idx AS (
    SELECT i.indexrelid, pg_relation_size(i.indexrelid) AS bytes,
           EXISTS (SELECT 1 FROM pgperf.applied_indexes AS a
                    WHERE a.name = i.indexrelid::regclass::text) AS performance
      FROM pg_index AS i WHERE i.indrelid IN (SELECT oid FROM platform_tables)
)
SELECT (SELECT sum(pg_total_relation_size(oid) - pg_indexes_size(oid)) FROM platform_tables)
           ::bigint AS table_bytes,
       (SELECT sum(bytes) FROM idx WHERE NOT performance)::bigint AS constraint_index_bytes,
       (SELECT sum(bytes) FROM idx WHERE performance)::bigint AS performance_index_bytes,
       (SELECT count(*) FROM idx WHERE performance) AS performance_indexes,
       (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class AS c
         WHERE c.relkind = 'm')::bigint AS matview_bytes
