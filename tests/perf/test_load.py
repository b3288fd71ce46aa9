"""Load scenarios (sql/load/scenarios.toml): open-model load on a clone, p95 within budget.

`make test` runs the short shape (a few seconds each); `make perf-load` the full one.
Each scenario is one pytest-benchmark entry (variant ``load``) so the verdict and the
baseline judge it like any benchmark; the latency samples are in ``extra_info``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pgperf import database, load, loadsummary, scenarios
from pgperf.bench import BenchSession
from pgperf.catalog import default_catalog
from pgperf.config import PROJECT_ROOT
from pgperf.provision import ServerHandle
from pgperf.seeding import Template

CATALOG = default_catalog(PROJECT_ROOT)
SPECS = scenarios.load_scenarios(PROJECT_ROOT / "sql" / "load", CATALOG)

pytestmark = pytest.mark.load


@pytest.fixture
def load_db(pg_server: ServerHandle, bench_template: Template) -> Iterator[str]:
    """A throwaway clone of the bench template: the scenario's writes die with it."""
    with database.scratch_database(pg_server, template=bench_template.name, label="load") as dsn:
        yield dsn


@pytest.mark.parametrize("name", list(SPECS))
def test_scenario(
    benchmark, request: pytest.FixtureRequest, bench_session: BenchSession, load_db: str, name: str
) -> None:
    spec = SPECS[name]
    short = request.config.getoption("pgperf_load_shape") == "short"
    with database.connect(load_db) as conn:
        workload = scenarios.prepare(conn, spec, bench_session.pickers)

    def run() -> load.ScenarioResult:
        return load.run_scenario(
            load_db,
            name=spec.name,
            make_request=workload.make_request,
            shape=spec.shape(short=short),
            background=workload.background(),
        )

    result: load.ScenarioResult = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.group = spec.feature
    benchmark.extra_info.update(
        loadsummary.extra_info(
            result, feature=spec.feature, budget_ms=spec.budget_ms, work=spec.work
        )
    )
    print("\n" + loadsummary.summary(result, budget_ms=spec.budget_ms))
    problems = loadsummary.problems(result, budget_ms=spec.budget_ms)
    assert not problems, "\n".join(problems)
    assert result.completed >= 0.9 * result.timings.offered > 0
    if spec.background:
        assert all(b.durations_ms for b in result.background), "background job never completed"
