"""Load scenarios (sql/load/scenarios.toml): open-model load on a clone, judged like a benchmark.

`make test` runs the short shape (a few seconds each); `make perf-load` the full one.
Each scenario is one pytest-benchmark entry (variant ``load``) whose record the gate judges:
failed requests, a server that fell behind its rate, failed background jobs and p95 over
the feature's budget fail it, here and in `pgperf compare` alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pgperf.data import database
from pgperf.data.templates import Template
from pgperf.load import diagnose, driver, scenarios
from pgperf.load.record import load_record
from pgperf.load.scenarios import ScenarioSpec
from pgperf.measure.runner import BenchSession
from pgperf.provision import ServerHandle

pytestmark = pytest.mark.load


@pytest.fixture
def load_db(pg_server: ServerHandle, bench_template: Template) -> Iterator[str]:
    """A throwaway clone of the bench template: the scenario's writes die with it."""
    with database.scratch_database(pg_server, template=bench_template.name, label="load") as dsn:
        yield dsn


def test_scenario(
    benchmark: Any,
    request: pytest.FixtureRequest,
    bench_session: BenchSession,
    load_db: str,
    scenario_spec: ScenarioSpec,
) -> None:
    spec = scenario_spec
    short = request.config.getoption("pgperf_load_shape") == "short"
    with database.connect(load_db) as conn:
        workload = scenarios.prepare(conn, spec, bench_session.pickers)

    def run() -> driver.ScenarioResult:
        return driver.run_scenario(
            load_db,
            name=spec.name,
            make_request=workload.make_request,
            shape=spec.shape(short=short),
            background=workload.background(),
        )

    result: driver.ScenarioResult = benchmark.pedantic(run, rounds=1, iterations=1)
    record = load_record(
        result, feature=spec.feature, budget_ms=spec.budget_ms, name=benchmark.name, work=spec.work
    )
    benchmark.group = spec.feature
    benchmark.extra_info.update(record.to_extra_info())
    bench_session.records.append(record)
    print("\n" + diagnose.summary(result, budget_ms=spec.budget_ms))
    verdict = bench_session.judging.judge(record)
    assert not verdict.failed, f"{record.key}: " + "; ".join(verdict.failures)
