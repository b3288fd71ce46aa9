-- Monitoring layer of the platform database: index usage, slow queries, index maintenance
-- and the analytics materialized views. Applied (after sql/performance_indexes.sql) in one
-- transaction by pgperf.indexes; re-applying it replaces every object it owns, so it is
-- idempotent. The objects live in `public` under the names the platform's requirements give them; none is a table, so the
-- schema-health checks (which look at tables) never count them as platform tables.
--
-- Objects:
--   index_comment_field(comment, key)  parses 'category=...; serves=...' index comments
--   index_usage_stats                  view: per index scans, tuples, size, category, unused
--   slow_queries(min_mean_ms)          pg_stat_statements entries above a mean time
--   slow_queries_analysis              view: slow_queries(100) — the platform's 100 ms slow-query threshold
--   index_key_columns                  view: one row per index, its key columns normalised
--   invalid_indexes                    view: indexes a failed build left INVALID / not ready
--   duplicate_indexes                  view: exact and prefix-covered duplicates, intersections
--   unused_indexes                     view: never scanned and not backing a constraint
--   bloated_indexes(...)               btree indexes whose leaves are mostly empty (pgstattuple)
--   rebuild_index_statements(...)      the REINDEX INDEX CONCURRENTLY statements to run
--                                      (REINDEX CONCURRENTLY cannot run inside a function or
--                                      a transaction: pgperf.monitor runs them in autocommit)
--   platform_now()                     the data's "now": pgperf.meta data_now on a seeded
--                                      data set (fixed, so windows are reproducible), else now()
--   mv_provider_daily_stats            provider x day, last 30 days: volume, cost, failures
--   refresh_analytics_views(bool)      REFRESH MATERIALIZED VIEW [CONCURRENTLY] of the views
--
-- One materialized view on purpose: the feature queries read the other aggregates from raw
-- rows through index-only scans (sql/performance_indexes.sql), in milliseconds; a user x
-- month view was tried and dropped — nothing read it, and its CONCURRENTLY refresh (a full
-- diff of ~30k rows per 200k tasks) would have pushed reports/refresh_mvs past its budget
-- at the default profile.

CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pgstattuple;

DROP FUNCTION IF EXISTS refresh_analytics_views(boolean);
DROP MATERIALIZED VIEW IF EXISTS mv_user_monthly_credits;  -- an earlier version had it
DROP MATERIALIZED VIEW IF EXISTS mv_provider_daily_stats;
DROP FUNCTION IF EXISTS rebuild_index_statements(double precision, bigint);
DROP FUNCTION IF EXISTS bloated_indexes(double precision, bigint);
DROP VIEW IF EXISTS unused_indexes;
DROP VIEW IF EXISTS duplicate_indexes;
DROP VIEW IF EXISTS invalid_indexes;
DROP VIEW IF EXISTS index_key_columns;
DROP VIEW IF EXISTS slow_queries_analysis;
DROP FUNCTION IF EXISTS slow_queries(double precision);
DROP VIEW IF EXISTS index_usage_stats;
DROP FUNCTION IF EXISTS index_comment_field(text, text);
DROP FUNCTION IF EXISTS platform_now();

-- Seeded data sets are generated around a fixed instant recorded in pgperf.meta (data_now),
-- so "the last 30 days" must be measured from it; in production there is no such row and
-- this is now(). Dynamic SQL: pgperf.meta does not exist outside the suite.
CREATE FUNCTION platform_now() RETURNS timestamptz
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    fixed timestamptz;
BEGIN
    IF to_regclass('pgperf.meta') IS NOT NULL THEN
        EXECUTE 'SELECT value::timestamptz FROM pgperf.meta WHERE key = $1'
            INTO fixed USING 'data_now';
    END IF;
    RETURN coalesce(fixed, now());
END
$$;

-- The value of `key` in a comment shaped 'category=partial; serves=dashboard/active_tasks'.
CREATE FUNCTION index_comment_field(comment text, key text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT nullif(btrim((regexp_match(comment, '(?:^|;)\s*' || key || '\s*=\s*([^;]*)'))[1]), '')
$$;

-- Unique and primary-key indexes are never "unused": they enforce a constraint even with no
-- scan. Cumulative since the stats were last reset (per database: a fresh clone starts at 0).
CREATE VIEW index_usage_stats AS
SELECT s.schemaname                                   AS schema_name,
       s.relname                                      AS table_name,
       s.indexrelname                                 AS index_name,
       s.idx_scan                                     AS scans,
       s.idx_tup_read                                 AS tuples_read,
       s.idx_tup_fetch                                AS tuples_fetched,
       pg_relation_size(s.indexrelid)                 AS size_bytes,
       pg_size_pretty(pg_relation_size(s.indexrelid)) AS size,
       coalesce(index_comment_field(obj_description(s.indexrelid, 'pg_class'), 'category'),
                CASE WHEN i.indisprimary OR i.indisunique THEN 'constraint'
                     ELSE 'uncategorised' END)        AS category,
       index_comment_field(obj_description(s.indexrelid, 'pg_class'), 'serves') AS serves,
       i.indisunique                                  AS is_unique,
       i.indisvalid                                   AS is_valid,
       (s.idx_scan = 0 AND NOT i.indisunique)         AS unused
FROM pg_stat_user_indexes AS s
JOIN pg_index AS i ON i.indexrelid = s.indexrelid
WHERE s.schemaname <> 'pgperf';

-- pg_stat_statements (PostgreSQL 13+ column names; times in ms), this database only.
CREATE FUNCTION slow_queries(min_mean_ms double precision DEFAULT 100)
RETURNS TABLE (queryid bigint, query text, calls bigint, total_exec_time double precision,
               mean_exec_time double precision, max_exec_time double precision,
               stddev_exec_time double precision, rows bigint, shared_blks_hit bigint,
               shared_blks_read bigint, cache_hit_pct numeric)
LANGUAGE sql STABLE
AS $$
    SELECT s.queryid, s.query, s.calls, s.total_exec_time, s.mean_exec_time, s.max_exec_time,
           s.stddev_exec_time, s.rows, s.shared_blks_hit, s.shared_blks_read,
           round(100.0 * s.shared_blks_hit
                 / nullif(s.shared_blks_hit + s.shared_blks_read, 0), 2)
    FROM pg_stat_statements AS s
    JOIN pg_database AS d ON d.oid = s.dbid
    WHERE d.datname = current_database() AND s.mean_exec_time > min_mean_ms
    ORDER BY s.mean_exec_time DESC
$$;

CREATE VIEW slow_queries_analysis AS SELECT * FROM slow_queries(100);

-- One row per index with its key columns as comparable signatures: the column or
-- expression text, operator class, collation and ordering option of each key column.
CREATE VIEW index_key_columns AS
SELECT i.indexrelid                         AS index_oid,
       n.nspname                            AS schema_name,
       t.relname                            AS table_name,
       c.relname                            AS index_name,
       am.amname                            AS access_method,
       i.indisunique                        AS is_unique,
       i.indisprimary                       AS is_primary,
       i.indisvalid AND i.indisready        AS is_valid,
       coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS predicate,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) || '|' || i.indclass[k - 1] || '|'
                    || i.indcollation[k - 1] || '|' || i.indoption[k - 1]
             FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k)    AS key_sigs,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) || '|' || i.indclass[k - 1] || '|'
                    || i.indcollation[k - 1]
             FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k)    AS key_sigs_unordered,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(1, i.indnatts) AS k ORDER BY k)       AS all_columns,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(i.indnkeyatts + 1, i.indnatts) AS k ORDER BY k) AS include_columns,
       pg_relation_size(i.indexrelid)       AS size_bytes
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_class AS t ON t.oid = i.indrelid
JOIN pg_namespace AS n ON n.oid = t.relnamespace
JOIN pg_am AS am ON am.oid = c.relam
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');

CREATE VIEW invalid_indexes AS
SELECT schema_name, table_name, index_name, size_bytes
FROM index_key_columns
WHERE NOT is_valid;

-- kind 'exact':  same method, keys, INCLUDE and predicate — `index_name` is redundant.
-- kind 'prefix': a btree whose keys lead another btree with the same predicate — the
--                longer one serves every query the shorter does (direction is irrelevant
--                for a single leading column: btree scans both ways). Unique indexes are
--                never the redundant side: they enforce a constraint.
-- kind 'intersection': same leading key, neither covers the other — worth a look, not an error.
CREATE VIEW duplicate_indexes AS
WITH pairs AS (
    SELECT a.schema_name, a.table_name, a.index_name, b.index_name AS other_index,
           a.size_bytes,
           CASE
               WHEN a.access_method = b.access_method AND a.key_sigs = b.key_sigs
                    AND a.include_columns = b.include_columns
                    AND (NOT a.is_unique OR b.is_unique)
                    AND (a.is_unique <> b.is_unique OR a.index_oid > b.index_oid)
                   THEN 'exact'
               WHEN a.access_method = 'btree' AND b.access_method = 'btree'
                    AND NOT a.is_unique
                    AND cardinality(a.key_sigs) < cardinality(b.key_sigs)
                    AND (a.key_sigs = b.key_sigs[1:cardinality(a.key_sigs)]
                         OR (cardinality(a.key_sigs) = 1
                             AND a.key_sigs_unordered[1] = b.key_sigs_unordered[1]))
                    AND a.include_columns <@ b.all_columns
                   THEN 'prefix'
               WHEN a.access_method = 'btree' AND b.access_method = 'btree'
                    AND a.key_sigs_unordered[1] = b.key_sigs_unordered[1]
                    AND a.index_oid < b.index_oid
                   THEN 'intersection'
           END AS kind
    FROM index_key_columns AS a
    JOIN index_key_columns AS b
      ON b.schema_name = a.schema_name AND b.table_name = a.table_name
     AND b.index_oid <> a.index_oid AND b.predicate = a.predicate
    WHERE a.is_valid AND b.is_valid
)
SELECT schema_name, table_name, kind, index_name, other_index AS covered_by, size_bytes
FROM pairs
WHERE kind IS NOT NULL
  -- a pair that is exact or prefix one way is not also reported as an intersection
  AND NOT (kind = 'intersection' AND EXISTS (
      SELECT 1 FROM pairs AS p
      WHERE p.kind IN ('exact', 'prefix') AND p.table_name = pairs.table_name
        AND p.schema_name = pairs.schema_name
        AND ((p.index_name = pairs.index_name AND p.other_index = pairs.other_index)
          OR (p.index_name = pairs.other_index AND p.other_index = pairs.index_name))));

CREATE VIEW unused_indexes AS
SELECT schema_name, table_name, index_name, category, serves, size_bytes, size
FROM index_usage_stats
WHERE unused
ORDER BY size_bytes DESC;

-- Exact leaf density from pgstattuple (reads every page of each index: a maintenance call,
-- not something to run on every request). A fresh btree is ~90% dense (fillfactor 90).
CREATE FUNCTION bloated_indexes(max_leaf_density double precision DEFAULT 70,
                                min_size_bytes bigint DEFAULT 1048576)
RETURNS TABLE (schema_name name, table_name name, index_name name, size_bytes bigint,
               avg_leaf_density double precision, leaf_fragmentation double precision)
LANGUAGE sql VOLATILE
AS $$
    SELECT k.schema_name, k.table_name, k.index_name, k.size_bytes,
           st.avg_leaf_density, st.leaf_fragmentation
    FROM index_key_columns AS k
    CROSS JOIN LATERAL pgstatindex(k.index_oid::regclass) AS st
    WHERE k.access_method = 'btree' AND k.is_valid
      AND k.schema_name NOT IN ('pgperf')
      AND k.size_bytes >= min_size_bytes
      AND st.avg_leaf_density < max_leaf_density
    ORDER BY k.size_bytes DESC
$$;

-- The statements that rebuild every bloated or invalid index without blocking writes.
CREATE FUNCTION rebuild_index_statements(max_leaf_density double precision DEFAULT 70,
                                         min_size_bytes bigint DEFAULT 1048576)
RETURNS TABLE (index_name name, reason text, statement text)
LANGUAGE sql VOLATILE
AS $$
    SELECT b.index_name, 'bloated',
           format('REINDEX INDEX CONCURRENTLY %I.%I', b.schema_name, b.index_name)
    FROM bloated_indexes(max_leaf_density, min_size_bytes) AS b
    UNION ALL
    SELECT v.index_name, 'invalid',
           format('REINDEX INDEX CONCURRENTLY %I.%I', v.schema_name, v.index_name)
    FROM invalid_indexes AS v
$$;

-- Provider x day: the 30 UTC days before platform_now()'s day, and that day. Reads tasks
-- through idx_tasks_created_at.
CREATE MATERIALIZED VIEW mv_provider_daily_stats AS
SELECT (date_trunc('day', t.created_at AT TIME ZONE 'UTC'))::date          AS day,
       t.provider_id,
       count(*)                                                               AS tasks,
       count(*) FILTER (WHERE t.status = 'completed')                         AS completed,
       count(*) FILTER (WHERE t.status = 'failed')                            AS failed,
       round(count(*) FILTER (WHERE t.status = 'failed')::numeric / count(*), 4) AS failure_rate,
       sum(t.credits_used)                                                    AS credits_used,
       sum(t.input_tokens)::bigint                                            AS input_tokens,
       sum(t.output_tokens)::bigint                                           AS output_tokens,
       round(avg(t.latency_ms) FILTER (WHERE t.status = 'completed'), 1)     AS avg_latency_ms
FROM tasks AS t
-- The bounds are scalar subqueries so platform_now() runs once per refresh (an InitPlan,
-- usable as an index bound), not once per row of a filter.
WHERE t.created_at >= (SELECT (date_trunc('day', platform_now() AT TIME ZONE 'UTC')
                               - interval '30 days') AT TIME ZONE 'UTC')
  AND t.created_at < (SELECT (date_trunc('day', platform_now() AT TIME ZONE 'UTC')
                              + interval '1 day') AT TIME ZONE 'UTC')
GROUP BY 1, 2;

-- Plain (no predicate, no expression) unique index: REFRESH ... CONCURRENTLY requires it.
CREATE UNIQUE INDEX mv_provider_daily_stats_day_provider
    ON mv_provider_daily_stats (day, provider_id);
COMMENT ON INDEX mv_provider_daily_stats_day_provider IS
    'category=analytics; serves=analytics/provider_daily,reports/refresh_mvs';

-- REFRESH ... CONCURRENTLY may run in a function (unlike REINDEX CONCURRENTLY): readers of
-- the views are never blocked while they refresh.
CREATE FUNCTION refresh_analytics_views(non_blocking boolean DEFAULT true) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF non_blocking THEN
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_provider_daily_stats;
    ELSE
        REFRESH MATERIALIZED VIEW mv_provider_daily_stats;
    END IF;
END
$$;
