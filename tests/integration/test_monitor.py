"""PerformanceMonitor and sql/monitoring.sql on a real server: usage deltas, slow queries,
sizes, rebuilds, the analytics materialized views and the unused-index report."""

from __future__ import annotations

import json
import warnings
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from pgperf.config import Config
from pgperf.data import database
from pgperf.errors import PgperfError
from pgperf.measure import explain
from pgperf.measure.run import (
    UnusedIndexWarning,
    attribute_usage,
    recording_usage,
    run_metadata,
    unused_index_report,
    warn_unused_indexes,
    with_usage,
)
from pgperf.monitor import PerformanceMonitor
from pgperf.provision import ServerHandle
from pgperf.verdict.record import BenchmarkKey, BenchmarkRecord

pytestmark = pytest.mark.integration

RECENT_TASKS = "SELECT id FROM tasks WHERE user_id = 3 ORDER BY created_at DESC, id DESC LIMIT 20"


def _index_used_by(conn: database.Connection, query: str) -> str:
    row = conn.execute(f"EXPLAIN (FORMAT JSON) {query}").fetchone()
    assert row is not None
    plan = row[0] if isinstance(row[0], list) else json.loads(str(row[0]))
    text = json.dumps(plan)
    start = text.index('"Index Name": "') + len('"Index Name": "')
    return text[start : text.index('"', start)]


def test_delta_counts_the_scans_of_a_flushed_session(small_bench_db: str) -> None:
    with PerformanceMonitor(small_bench_db) as mon, database.connect(small_bench_db) as queries:
        queries.execute("SET enable_seqscan = off")
        used = _index_used_by(queries, RECENT_TASKS)
        before = mon.snapshot()
        for _ in range(3):
            queries.execute(RECENT_TASKS).fetchall()
        PerformanceMonitor.flush_session_stats(queries)
        after = mon.snapshot()
    deltas = {d.index_name: d for d in PerformanceMonitor.delta(before, after)}
    assert used == "idx_tasks_user_created"
    assert deltas[used].scans == 3
    assert deltas[used].used
    assert deltas["idx_tasks_request_payload_gin"].scans == 0


def test_wait_for_scans_sees_an_unflushed_session_or_times_out(small_bench_db: str) -> None:
    with PerformanceMonitor(small_bench_db) as mon:
        before = mon.snapshot()
        with pytest.raises(PgperfError, match="did not move"):
            mon.wait_for_scans(before, timeout_s=0.3)
        # Not flushed by hand: a backend publishes its stats when it exits (or idles 10 s).
        with psycopg.connect(small_bench_db, autocommit=True) as other:
            other.execute(RECENT_TASKS).fetchall()
        after = mon.wait_for_scans(before, at_least=1, timeout_s=20)
    assert after.total_scans > before.total_scans


def test_slow_queries_come_from_pg_stat_statements(small_bench_db: str) -> None:
    with PerformanceMonitor(small_bench_db) as mon:
        mon.conn.execute("SELECT pg_sleep(0.12)")
        slow = mon.slow_queries()
        view = mon.conn.execute(
            "SELECT calls, mean_exec_time FROM slow_queries_analysis WHERE query LIKE %s",
            ["%pg_sleep%"],
        ).fetchall()
    sleeps = [q for q in slow if "pg_sleep" in q.query]
    assert len(sleeps) == 1
    assert sleeps[0].mean_exec_time >= 100
    assert len(view) == 1


def test_unused_indexes_and_sizes(small_bench_db: str) -> None:
    with PerformanceMonitor(small_bench_db) as mon:
        unused = {s.index_name: s for s in mon.unused_indexes()}
        sizes = {r.table_name: r for r in mon.relation_sizes()}
        index_sizes = mon.index_sizes()
    assert unused["idx_tasks_request_payload_gin"].category == "jsonb_gin"
    assert "tasks_pkey" not in unused  # backs a constraint: never "unused"
    assert sizes["tasks"].estimated_rows == 2000
    assert sizes["tasks"].index_bytes > sizes["tasks"].table_bytes  # 20-odd indexes on it
    assert index_sizes[0][2] >= index_sizes[-1][2]


def test_bloated_index_is_listed_and_rebuilt_concurrently(small_bench_db: str) -> None:
    with PerformanceMonitor(small_bench_db) as mon:
        mon.conn.execute(
            "CREATE TABLE bloat (id int PRIMARY KEY, v int);"
            "INSERT INTO bloat SELECT g, g FROM generate_series(1, 200000) g;"
            "CREATE INDEX bloat_v ON bloat (v);"
            "DELETE FROM bloat WHERE id % 20 <> 0;"
        )
        mon.conn.execute("VACUUM bloat")
        planned = mon.rebuild_statements()
        results = mon.rebuild_indexes(planned)
        after = mon.rebuild_statements()
        mon.conn.execute("DROP TABLE bloat")
    assert ("bloat_v", "bloated", "REINDEX INDEX CONCURRENTLY public.bloat_v") in planned
    assert {r.index_name for r in results} >= {"bloat_v"}
    assert "bloat_v" not in {name for name, _, _ in after}


def test_rebuild_refuses_a_transaction(small_bench_db: str) -> None:
    with psycopg.connect(small_bench_db) as conn, pytest.raises(PgperfError, match="transaction"):
        PerformanceMonitor(conn).rebuild_indexes([("x", "bloated", "REINDEX INDEX x")])


def test_provider_daily_view_matches_raw_rows_and_refreshes_concurrently(
    small_bench_db: str,
) -> None:
    raw = (
        "SELECT provider_id, count(*), count(*) FILTER (WHERE status = 'failed') FROM tasks "
        "WHERE created_at >= (date_trunc('day', now() AT TIME ZONE 'UTC') - interval '30 days')"
        " AT TIME ZONE 'UTC' GROUP BY 1 ORDER BY 1"
    )
    from_view = (
        "SELECT provider_id, sum(tasks), sum(failed) FROM mv_provider_daily_stats "
        "GROUP BY 1 ORDER BY 1"
    )
    with database.connect(small_bench_db) as conn:
        assert conn.execute(from_view).fetchall() == conn.execute(raw).fetchall()
        conn.execute(
            "INSERT INTO tasks (user_id, provider_model_id, provider_id, task_type, source, "
            "status, request_payload, error_code, started_at, completed_at) VALUES "
            "(1, 2, 1, 'text_generation', 'api', 'failed', '{}', 'x', now(), now())"
        )
        stale = conn.execute(from_view).fetchall()
        conn.execute("SELECT refresh_analytics_views()")
        fresh = conn.execute(from_view).fetchall()
        assert fresh == conn.execute(raw).fetchall()
    assert stale != fresh


def test_analytics_window_follows_the_data_s_fixed_now(small_bench_db: str) -> None:
    """A seeded data set's clock (pgperf.meta data_now) anchors the views' windows."""
    data_now = datetime.now(timezone.utc) - timedelta(days=20)  # tasks span the last 60 days
    day = data_now.date()
    days = "SELECT min(day), max(day) FROM mv_provider_daily_stats"
    with database.connect(small_bench_db) as conn:
        database.write_meta(conn, "data_now", "2026-01-15T10:00:00+00:00")
        try:
            conn.execute("SELECT refresh_analytics_views(false)")
            before_any_task = conn.execute(days).fetchone()
            database.write_meta(conn, "data_now", data_now.isoformat())
            conn.execute("SELECT refresh_analytics_views(false)")
            window = conn.execute(days).fetchone()
        finally:
            conn.execute("DELETE FROM pgperf.meta WHERE key = 'data_now'")
            conn.execute("SELECT refresh_analytics_views(false)")
    assert before_any_task == (None, None)
    assert window == (day - timedelta(days=30), day)  # tasks on both sides are left out


def test_recorded_usage_is_attributed_to_plans_and_the_unused_are_warned(
    small_bench_db: str, pg_server: ServerHandle, pgperf_config: Config
) -> None:
    with recording_usage(small_bench_db) as recorder, database.connect(small_bench_db) as queries:
        queries.execute("SET enable_seqscan = off")
        queries.execute(RECENT_TASKS).fetchall()
        PerformanceMonitor.flush_session_stats(queries)
    with database.connect(small_bench_db) as conn:
        conn.execute("SET enable_seqscan = off")
        facts = explain.explain(conn, RECENT_TASKS, {}, mode="custom")
    assert facts.indexes == ("idx_tasks_user_created",)
    key = BenchmarkKey("dashboard", "recent_tasks", "heavy", "prepared")
    record = BenchmarkRecord(key=key, name="recent", plan_indexes=facts.indexes)

    recorded = {u.index: u for u in recorder.usage}
    used = recorded["idx_tasks_user_created"]
    assert (used.table, used.category, used.scans) == ("tasks", "composite", 1)
    assert used.size_bytes > 0
    assert recorded["idx_tasks_request_payload_gin"].scans == 0
    assert all(u.used_by_benchmarks == () for u in recorder.usage)  # attributed at the end

    usage = attribute_usage(recorder.usage, [record])
    by_name = {u.index: u for u in usage}
    assert by_name["idx_tasks_user_created"].used_by_benchmarks == (str(key),)
    assert [u.index for u in usage if u.used_by_benchmarks] == ["idx_tasks_user_created"]
    with pytest.warns(UnusedIndexWarning, match="idx_tasks_request_payload_gin") as caught:
        report = warn_unused_indexes(usage)
    assert report is not None
    assert report == unused_index_report(usage) == str(caught[0].message)
    assert f"of {len(usage)} indexes were used by no benchmarked query" in report
    assert "idx_tasks_user_created" not in report
    assert "tasks_pkey" not in report  # backs a constraint: never "unused"

    # Attribution is by the benchmarks' plans: a scan no benchmark's plan made is not "used".
    unattributed = unused_index_report(attribute_usage(recorder.usage, []))
    assert unattributed is not None
    assert "idx_tasks_user_created" in unattributed
    # The results file's "pgperf"."index_usage": one entry per index, typed fields as JSON.
    meta = run_metadata(pgperf_config, pg_server, commit="0" * 40)
    with pytest.warns(UnusedIndexWarning):
        written = with_usage(meta, usage)
    assert written.index_usage == usage
    entries = {e["index"]: e for e in written.to_json()["index_usage"]}
    assert entries["idx_tasks_user_created"] == {
        "index": "idx_tasks_user_created",
        "table": "tasks",
        "category": "composite",
        "size_bytes": used.size_bytes,
        "scans": 1,
        "used_by_benchmarks": [str(key)],
    }
    assert entries["idx_tasks_request_payload_gin"]["used_by_benchmarks"] == []

    used_only = [u for u in usage if u.used_by_benchmarks]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_unused_indexes(used_only) is None
