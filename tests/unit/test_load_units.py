"""Pure parts of the load engine: arrival schedule, target check, server-view arithmetic,
the bottleneck call, scenario parsing and the pgbench translation."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import replace
from pathlib import Path

import pytest

from pgperf.config import PACKAGE_ROOT, Layout
from pgperf.errors import UnsafeTarget
from pgperf.load.background import BackgroundRuns
from pgperf.load.diagnose import bottleneck
from pgperf.load.driver import (
    Arrival,
    LoadError,
    ScenarioResult,
    Shape,
    Timings,
    arrival_offsets,
    refuse_unsafe_target,
)
from pgperf.load.pgbench import statement
from pgperf.load.record import LOAD_PERSONA, load_record
from pgperf.load.scenarios import load_scenarios, parse_scenario
from pgperf.load.sweep import Step, highest_within, rates, start_rate
from pgperf.load.watch import (
    ServerView,
    StatementDelta,
    by_label,
    classify_wait,
    statement_deltas,
)
from pgperf.measure.catalog import Query, catalog_of
from pgperf.measure.params import DataNow, Literal, Persona
from pgperf.measure.params import Step as StepSource
from pgperf.verdict.findings import Kind, Rule, Thresholds
from pgperf.verdict.record import LOAD, BenchmarkKey
from pgperf.verdict.rules import judge

SHAPE = Shape(rate_per_s=50, duration_s=10, max_requests=10_000, users=10)


def test_arrivals_are_poisson_at_the_target_rate_within_the_duration() -> None:
    offsets = arrival_offsets(SHAPE)
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    assert offsets == sorted(offsets)
    assert offsets[0] > 0
    assert offsets[-1] < SHAPE.duration_s
    assert len(offsets) == pytest.approx(500, rel=0.15)
    assert statistics.mean(gaps) == pytest.approx(0.02, rel=0.15)
    # Exponential gaps: the standard deviation is about the mean (a fixed pace would be 0).
    assert statistics.stdev(gaps) == pytest.approx(statistics.mean(gaps), rel=0.25)
    assert arrival_offsets(SHAPE) == offsets  # seeded: the same schedule every run


def test_request_count_bounds_the_schedule() -> None:
    assert len(arrival_offsets(replace(SHAPE, max_requests=7))) == 7


@pytest.mark.parametrize(
    "overrides", [{"rate_per_s": 0}, {"duration_s": -1}, {"users": 0}, {"pool_min": 60}]
)
def test_a_shape_without_bounds_is_refused(overrides: dict[str, float]) -> None:
    with pytest.raises(LoadError):
        replace(SHAPE, **overrides)


@pytest.mark.parametrize(
    "dsn",
    [
        "host=127.0.0.1 port=5432 dbname=postgres",
        "host=127.0.0.1 dbname=platform",
        "host=db.staging.example dbname=pgperf_run_x",
    ],
)
def test_load_goes_only_to_the_suites_own_databases_here(dsn: str) -> None:
    with pytest.raises(UnsafeTarget):
        refuse_unsafe_target(dsn)


def test_own_local_database_is_a_valid_target() -> None:
    refuse_unsafe_target("host=127.0.0.1 port=5432 dbname=pgperf_run_load_1")
    refuse_unsafe_target("host=/var/run/postgresql dbname=pgperf_run_load_1")


def _row(
    calls: int, ms: float, hit: int, query: str = "/* dashboard/x */ SELECT 1"
) -> dict[str, object]:
    return {
        "query": query,
        "calls": calls,
        "total_exec_time": ms,
        "rows": calls,
        "shared_blks_hit": hit,
        "shared_blks_read": 0,
    }


def test_statement_deltas_keep_what_moved_busiest_first() -> None:
    before = {("1", "10"): _row(5, 10.0, 50), ("2", "10"): _row(3, 3.0, 9)}
    after = {
        ("1", "10"): _row(15, 30.0, 150),
        ("2", "10"): _row(3, 3.0, 9),
        ("3", "10"): _row(2, 100.0, 4, "/* bg:reports/refresh */ SELECT f()"),
    }
    deltas = statement_deltas(before, after)
    assert [(d.label, d.calls) for d in deltas] == [("bg:reports/refresh", 2), ("dashboard/x", 10)]
    assert deltas[1].mean_exec_ms == pytest.approx(2.0)
    assert deltas[1].buffers == 100
    assert deltas[0].background
    assert not deltas[1].background


@pytest.mark.parametrize(
    ("state", "kind", "event", "expected"),
    [
        ("active", "", "", "CPU"),
        ("active", "Lock", "transactionid", "Lock:transactionid"),
        ("idle in transaction", "Client", "ClientRead", "Client:idle in transaction"),
        ("idle", "Client", "ClientRead", None),
    ],
)
def test_backend_samples_are_classified(
    state: str, kind: str, event: str, expected: str | None
) -> None:
    row = {"state": state, "wait_event_type": kind, "wait_event": event}
    assert classify_wait(row) == expected


def _view(**overrides: object) -> ServerView:
    values: dict[str, object] = {
        "statements": (StatementDelta("/* f/q */ SELECT", 100, 50.0, 100, 900, 100),),
        "statements_error": None,
        "samples": 100,
        "waits": {"CPU": 50},
        "lock_waiters_max": 0,
        "deadlocks": 0,
        "rollbacks": 0,
        "server_cpu_s": 1.0,
        "client_cpu_s": 1.0,
        "machine_busy": 0.3,
        "wall_s": 10.0,
        "cores": 2,
    }
    values.update(overrides)
    return ServerView(**values)  # type: ignore[arg-type]


def _result(
    view: ServerView,
    *,
    latency_s: float = 0.01,
    pool_s: float = 0.0,
    errors: int = 0,
    background: tuple[BackgroundRuns, ...] = (),
) -> ScenarioResult:
    outcomes = tuple(
        Arrival(
            i * 0.1,
            i * 0.1,
            i * 0.1 + pool_s,
            i * 0.1 + latency_s,
            error=f"boom {i % 2}" if i < errors else None,
        )
        for i in range(100)
    )
    timings = Timings(outcomes, offered=100, started=0.0, ended=10.0, arrival_window_s=9.9)
    return ScenarioResult("s", SHAPE, timings, {"requests_num": 100}, view, background)


@pytest.mark.parametrize(
    ("view", "pool_s", "kind"),
    [
        (_view(), 0.0, "none"),
        (_view(waits={"CPU": 10, "Lock:tuple": 30}), 0.0, "locks"),
        (_view(server_cpu_s=15.0, client_cpu_s=3.0), 0.0, "server CPU"),
        (_view(server_cpu_s=2.0, client_cpu_s=9.0), 0.0, "client CPU"),
        (_view(), 0.008, "pool"),
        (_view(machine_busy=0.97), 0.008, "machine"),
        (_view(machine_busy=0.97), 0.0, "none"),
        (_view(client_cpu_s=7.5), 0.0, "client CPU"),
    ],
)
def test_bottleneck_names_the_first_limit(view: ServerView, pool_s: float, kind: str) -> None:
    assert bottleneck(_result(view, pool_s=pool_s)).kind == kind


def test_load_record_carries_the_results_file_keys_and_the_run_facts() -> None:
    result = _result(_view(), latency_s=0.06)
    record = load_record(result, feature="dashboard", budget_ms=50, name="test_load[s]")
    assert record.key == BenchmarkKey("dashboard", "s", LOAD_PERSONA, LOAD)
    assert LOAD_PERSONA == "population"
    assert record.name == "test_load[s]"
    assert record.p95_ms == pytest.approx(60, abs=0.01)
    assert record.budget_ms == 50
    assert len(record.samples_ms) == 100
    assert record.errors == 0
    assert record.sustained is True
    assert record.load_problems == ()
    assert record.buffers == 10  # 1000 buffers over 100 requests
    assert record.server_ms == pytest.approx(0.5)  # 50 ms of execution over 100 requests
    assert record.bottleneck is not None
    assert record.bottleneck.startswith("none: ")
    info = record.to_extra_info()
    assert info["key"] == "dashboard/s|population|load"
    assert info["variant"] == "load"
    assert info["persona"] == "population"
    assert info["p95_ms"] == pytest.approx(60, abs=0.01)
    assert len(info["samples_ms"]) == 100
    assert info["errors"] == 0
    assert info["buffers"] == 10
    unstable = load_record(result, feature="dashboard", budget_ms=50, name="n", work=False)
    assert unstable.buffers is None
    assert "buffers" not in unstable.to_extra_info()


def test_the_verdict_judges_a_load_record_against_its_budget() -> None:
    result = _result(_view(), latency_s=0.06)
    record = load_record(result, feature="dashboard", budget_ms=50, name="n")
    over = judge(record, None, Thresholds())
    assert over.failed
    assert over.rule is Rule.BUDGET
    # A load run's budget failure says where the time went.
    assert record.bottleneck
    assert [f.message for f in over.findings] == [
        f"p95 60 ms over the 50 ms budget (limit: {record.bottleneck})"
    ]
    within = judge(
        load_record(result, feature="dashboard", budget_ms=100, name="n"), None, Thresholds()
    )
    assert not within.failed
    assert within.findings == ()


def test_failed_requests_fail_the_load_rule() -> None:
    record = load_record(_result(_view(), errors=4), feature="f", budget_ms=100, name="n")
    assert record.errors == 4
    assert record.error_samples == ("boom 0", "boom 1")
    assert record.sustained is False
    assert len(record.samples_ms) == 96  # failed requests have no latency
    verdict = judge(record, None, Thresholds())
    assert verdict.rule is Rule.LOAD
    # Failures are named once: a run with errors is not also reported as falling behind.
    assert verdict.failures == ("4 failed request(s): boom 0; boom 1",)


def test_a_server_that_fell_behind_fails_the_load_rule() -> None:
    result = _result(_view())
    slow = replace(result, timings=replace(result.timings, arrival_window_s=4.0))
    record = load_record(slow, feature="f", budget_ms=100, name="n")
    assert record.sustained is False
    assert record.offered_rps == 25.0
    verdict = judge(record, None, Thresholds())
    assert verdict.rule is Rule.LOAD
    assert verdict.failures == ("fell behind: 10.1/s achieved of 25.0/s offered",)


def test_failed_background_jobs_and_a_missing_server_view_fail_the_load_rule() -> None:
    jobs = (
        BackgroundRuns("bg:reports/refresh", (12.0, 14.0), ("deadlock detected",)),
        BackgroundRuns("bg:reports/other", (), ()),
    )
    view = _view(statements=None, statements_error="pg_stat_statements is not installed")
    record = load_record(_result(view, background=jobs), feature="f", budget_ms=100, name="n")
    assert record.buffers is None  # no server-side view, no work per request
    verdict = judge(record, None, Thresholds())
    assert verdict.rule is Rule.LOAD
    assert {f.kind for f in verdict.findings} == {Kind.FAIL}
    messages = "\n".join(verdict.failures)
    assert "bg:reports/refresh failed: deadlock detected" in messages
    assert "bg:reports/other never completed a run" in messages
    assert "no server-side view: pg_stat_statements is not installed" in messages
    assert len(verdict.failures) == 3
    assert record.details["background"][0] == {
        "label": "bg:reports/refresh",
        "runs": 2,
        "mean_ms": 13.0,
        "errors": ["deadlock detected"],
    }


LAYOUT = Layout(PACKAGE_ROOT)
CATALOG = catalog_of(LAYOUT)
LOAD_DIR = LAYOUT.load_dir


def test_the_platforms_scenarios_parse_against_the_catalog() -> None:
    specs = load_scenarios(LOAD_DIR, CATALOG)
    assert {s.feature for s in specs.values()} >= {"dashboard", "playground", "agents", "analytics"}
    for spec in specs.values():
        assert 20 <= spec.full.pool_min <= spec.full.pool_max <= 50
        assert spec.short.duration_s <= 5 < spec.full.duration_s
        assert spec.population.exists()
    assert specs["dashboard_100_users"].full.users == 100


def test_a_scenario_naming_an_unknown_query_is_refused(tmp_path: Path) -> None:
    raw = {
        "feature": "agents",
        "request": "one",
        "mix": {"no_such_query": 1},
        "users": 5,
        "rate": 1,
        "duration_s": 1,
        "max_requests": 1,
        "short_rate": 1,
        "short_duration_s": 1,
        "population": "population.sql",
    }
    with pytest.raises(LoadError, match="no query 'agents/no_such_query'"):
        parse_scenario("bad", raw, catalog=CATALOG, load_dir=LOAD_DIR, seed=1)
    with pytest.raises(LoadError, match="unknown keys"):
        parse_scenario("bad", {**raw, "rps": 3}, catalog=CATALOG, load_dir=LOAD_DIR, seed=1)


def test_pgbench_statement_uses_variables_and_inlines_literals() -> None:
    query = Query(
        feature="f",
        name="q",
        path=Path("q.sql"),
        text="SELECT %(user_id)s::bigint, %(now)s::timestamptz, %(payload)s, %(status)s, "
        "%(task_id)s, '100%%'",
        params={
            "user_id": Persona(),
            "now": DataNow(),
            "payload": Literal({"a": "it's"}),
            "status": Literal("active"),
            "task_id": StepSource(),
        },
    )
    text = statement(query)
    assert ":user_id::bigint" in text
    assert ":now::timestamptz" in text
    assert ":task_id" in text
    assert """'{"a": "it''s"}'::jsonb""" in text
    assert "'active'" in text
    assert "'100%'" in text
    assert text.endswith(";\n")
    assert statement(query, gset=True).endswith(" \\gset\n")


def test_pgbench_inlines_a_literal_whatever_string_it_holds() -> None:
    # Sources are typed: a literal that reads like a source's name is still a literal.
    query = Query(
        feature="f",
        name="q",
        path=Path("q.sql"),
        text="SELECT %(kind)s, %(mode)s, %(user_id)s",
        params={"kind": Literal("persona"), "mode": Literal("step"), "user_id": Persona()},
    )
    text = statement(query)
    assert "SELECT 'persona', 'step', :user_id;" in text
    assert ":kind" not in text
    assert ":mode" not in text


def _step(rate: float, *, within: bool) -> Step:
    return Step(rate, rate, 1, 2, 3, 0, within, "none", "", "", 0.0, 0.0)


def test_sweep_rates_grow_geometrically() -> None:
    assert rates(10, 1.5, 4) == [10, 15, 22.5, 33.8]


def test_highest_rate_within_budget_stops_at_the_first_failure() -> None:
    steps = [_step(10, within=True), _step(15, within=True), _step(18, within=False)]
    assert highest_within(steps) == steps[1]
    # A later lucky step above a failure does not count as sustained.
    assert highest_within([*steps, _step(22, within=True)]) == steps[1]
    assert highest_within([_step(10, within=False)]) is None


def test_statements_merge_by_label_across_query_ids() -> None:
    small = StatementDelta("/* dashboard/x */ SELECT $1::int2", 3, 3.0, 3, 30, 0)
    large = StatementDelta("/* dashboard/x */ SELECT $1::int4", 2, 4.0, 2, 20, 5)
    other = StatementDelta("/* dashboard/y */ SELECT 1", 1, 1.0, 1, 1, 0)
    merged = by_label([small, other, large])
    assert [(d.label, d.calls, d.buffers) for d in merged] == [
        ("dashboard/x", 5, 55),
        ("dashboard/y", 1, 1),
    ]
    assert merged[0].mean_exec_ms == pytest.approx(1.4)


def test_start_rate_per_scenario_overrides_the_global_one() -> None:
    options = ["100", "dashboard=400"]
    assert start_rate(options, "dashboard") == 400
    assert start_rate(options, "analytics") == 100
    assert start_rate([], "analytics") is None
