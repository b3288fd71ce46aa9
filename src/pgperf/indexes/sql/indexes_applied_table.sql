-- What pgperf.indexes applied in this database: one row per index of
-- sql/performance_indexes.sql, with the hash of its statements (CREATE + COMMENT), so a
-- changed file rebuilds only the indexes whose statements differ.
CREATE SCHEMA IF NOT EXISTS pgperf;
CREATE TABLE IF NOT EXISTS pgperf.applied_indexes (
    name           text PRIMARY KEY,
    table_name     text             NOT NULL,
    statement_hash text             NOT NULL,
    line           integer          NOT NULL,
    seconds        double precision NOT NULL,
    size_bytes     bigint           NOT NULL,
    applied_at     timestamptz      NOT NULL DEFAULT now()
)
