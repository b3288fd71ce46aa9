-- PostgreSQL 15+ keeps a backend's statistics in local memory and flushes them lazily (at
-- most once a second, or after 10 s idle). This makes the calling session flush them before
-- its next ReadyForQuery, i.e. before this statement's result reaches the client.
SELECT pg_stat_force_next_flush()
