"""The load engine against a real server: open-model arrivals, bounds, and both sides' view."""

from __future__ import annotations

import random

import pytest

from pgperf.data import database
from pgperf.load.background import Background
from pgperf.load.driver import Call, Request, Shape, run_scenario

pytestmark = pytest.mark.integration

PROBE = "CREATE TABLE load_probe (id int PRIMARY KEY, n int NOT NULL DEFAULT 0);"
PROBE_ROWS = "INSERT INTO load_probe (id) SELECT g FROM generate_series(1, 100) g;"


@pytest.fixture
def probe_db(schema_db: str) -> str:
    """The schema database plus a 100-row probe table of the test's own."""
    with database.connect(schema_db) as conn:
        database.execute_script(conn, PROBE + PROBE_ROWS, origin="probe")
    return schema_db


def _point_read(rng: random.Random) -> Request:
    return Request(
        (Call("probe", "SELECT n FROM load_probe WHERE id = %(id)s", {"id": rng.randint(1, 100)}),)
    )


def _shape(**overrides: float) -> Shape:
    values: dict[str, float] = {
        "rate_per_s": 100,
        "duration_s": 1.5,
        "max_requests": 1000,
        "users": 10,
        "pool_min": 2,
        "pool_max": 4,
        "drain_s": 5,
    }
    values.update(overrides)
    return Shape(**{k: v if k in {"rate_per_s", "duration_s", "drain_s"} else int(v)
                    for k, v in values.items()})  # fmt: skip


def test_a_bounded_scenario_reports_both_sides(probe_db: str) -> None:
    result = run_scenario(probe_db, name="probe", make_request=_point_read, shape=_shape())

    assert result.errors == []
    assert result.completed == result.timings.offered > 100
    assert result.offered_rate == pytest.approx(100, rel=0.35)
    assert result.throughput == pytest.approx(result.offered_rate, rel=0.25)
    assert result.sustained
    assert 0 < result.quantile_ms(50) <= result.quantile_ms(95) <= result.quantile_ms(99)
    assert result.pool_stats["requests_num"] == result.completed
    view = result.server
    assert view.statements is not None, view.statements_error
    probe = [s for s in view.statements if "load_probe" in s.query]
    assert [s.calls for s in probe] == [result.completed]
    assert probe[0].shared_blks_hit + probe[0].shared_blks_read >= result.completed
    assert view.samples >= 10
    assert view.server_cpu_s is not None


def test_server_cpu_is_measured_on_the_scenarios_backends(probe_db: str) -> None:
    def burn(rng: random.Random) -> Request:
        return Request((Call("burn", "SELECT count(*) FROM generate_series(1, 300000)"),))

    shape = _shape(rate_per_s=20, duration_s=1.5, users=4, pool_min=2, pool_max=4)
    result = run_scenario(probe_db, name="burn", make_request=burn, shape=shape)

    assert result.errors == []
    (burned,) = [s for s in result.server.statements or () if s.label == "burn"]
    server_s = burned.total_exec_ms / 1000
    assert result.server.server_cpu_s is not None
    # The backends' CPU (from /proc) is real work, and no more than the statements' execution
    # time (less when other processes share the cores: execution time is wall time).
    assert 0.1 < result.server.server_cpu_s <= 1.2 * server_s + 0.05
    assert result.server.client_cpu_s < result.server.server_cpu_s


def test_a_slow_server_shows_as_latency_not_as_reduced_load(probe_db: str) -> None:
    # Two users, 50 ms per request: capacity 40/s against 80 arrivals/s. A closed-loop
    # client would report ~50 ms; the open model must show the queue building up.
    def slow(rng: random.Random) -> Request:
        return Request((Call("sleep", "SELECT pg_sleep(0.05)"),))

    shape = _shape(rate_per_s=80, duration_s=1.0, users=2, pool_min=2, pool_max=2)
    result = run_scenario(probe_db, name="slow", make_request=slow, shape=shape)

    assert result.errors == []
    assert result.completed == result.timings.offered
    service_p95 = max(o.finished - o.connected for o in result.served) * 1000
    assert service_p95 < 200
    assert result.quantile_ms(95) > 3 * service_p95
    assert result.throughput < 0.75 * result.offered_rate
    assert not result.sustained


def test_request_count_bounds_the_run(probe_db: str) -> None:
    shape = _shape(rate_per_s=500, duration_s=30, max_requests=25)
    result = run_scenario(probe_db, name="bounded", make_request=_point_read, shape=shape)

    assert result.timings.offered == 25
    assert result.completed == 25
    assert result.timings.ended - result.timings.started < 5


def test_errors_are_counted_and_the_run_still_ends(probe_db: str) -> None:
    def failing(rng: random.Random) -> Request:
        return Request((Call("boom", "SELECT 1 / 0"),))

    shape = _shape(rate_per_s=50, duration_s=0.5)
    result = run_scenario(probe_db, name="errors", make_request=failing, shape=shape)

    assert result.completed == 0
    assert len(result.errors) == result.timings.offered > 0
    assert all("DivisionByZero" in e for e in result.errors)
    assert not result.sustained


def test_row_lock_contention_shows_as_lock_waits(probe_db: str) -> None:
    def hot_row(rng: random.Random) -> Request:
        return Request(
            (
                Call("bump", "UPDATE load_probe SET n = n + 1 WHERE id = 1 RETURNING n"),
                Call("hold", "SELECT pg_sleep(0.02), %(n)s::int AS seen"),
            ),
            transaction=True,
        )

    shape = _shape(rate_per_s=60, duration_s=1.0, users=8, pool_min=4, pool_max=8)
    result = run_scenario(probe_db, name="locks", make_request=hot_row, shape=shape)

    assert result.errors == []
    assert result.server.lock_waiters_max >= 2
    assert result.server.lock_wait_s > 0
    assert any(k.startswith("Lock:") for k in result.server.waits)
    with database.connect(probe_db) as conn:
        row = conn.execute("SELECT n FROM load_probe WHERE id = 1").fetchone()
    assert row == (result.completed,)


def test_background_job_runs_alongside_and_is_reported(probe_db: str) -> None:
    job = Background("vacuum-ish", "SELECT count(*) FROM load_probe", pause_s=0.05)
    shape = _shape(rate_per_s=50, duration_s=1.0)
    result = run_scenario(
        probe_db, name="bg", make_request=_point_read, shape=shape, background=[job]
    )

    assert result.errors == []
    (runs,) = result.background
    assert runs.errors == ()
    assert len(runs.durations_ms) >= 5
    assert result.server.statements is not None
    counted = [s for s in result.server.statements if "count(*)" in s.query]
    assert counted[0].calls == len(runs.durations_ms)


def test_a_doubled_percent_is_a_literal_percent_without_parameters(probe_db: str) -> None:
    # Catalog SQL doubles a literal '%' (psycopg placeholders); it must reach the server as '%'.
    def bump(rng: random.Random) -> Request:
        return Request(
            (
                Call(
                    "pct", "UPDATE load_probe SET n = n + 1 WHERE id = 2 AND '5%%' = '5' || chr(37)"
                ),
            )
        )

    result = run_scenario(probe_db, name="pct", make_request=bump, shape=_shape(duration_s=0.5))

    assert result.errors == []
    with database.connect(probe_db) as conn:
        row = conn.execute("SELECT n FROM load_probe WHERE id = 2").fetchone()
    assert row == (result.completed,)
    assert result.completed > 0
