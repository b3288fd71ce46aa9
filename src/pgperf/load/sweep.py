"""Rate sweep of the load scenarios: the highest sustained rate within budget, and the limit.

``pgperf load-sweep`` (or ``make perf-load-sweep``) raises each scenario's arrival rate
step by step on a clone of the benchmark template until p95 leaves the budget or the
server stops keeping up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from pgperf.data import database
from pgperf.load import diagnose, driver, scenarios
from pgperf.load.scenarios import ScenarioSpec
from pgperf.measure.catalog import Catalog
from pgperf.provision import ServerHandle


@dataclass(frozen=True)
class Step:
    """One rate of the sweep and what it gave."""

    rate: float
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    within: bool
    bottleneck: str
    evidence: str
    cpu: str
    lock_wait_s: float
    pool_wait_ms: float


def _step(result: driver.ScenarioResult, budget_ms: float) -> Step:
    found = diagnose.bottleneck(result)
    p95 = result.quantile_ms(95)
    return Step(
        rate=result.shape.rate_per_s,
        throughput=round(result.throughput, 2),
        p50_ms=result.quantile_ms(50),
        p95_ms=p95,
        p99_ms=result.quantile_ms(99),
        errors=len(result.errors),
        within=result.sustained and p95 <= budget_ms,
        bottleneck=found.kind,
        evidence=found.evidence,
        cpu=diagnose.cpu_text(result),
        lock_wait_s=round(result.server.lock_wait_s, 2),
        pool_wait_ms=round(result.pool_wait_ms, 2),
    )


def rates(start: float, factor: float, steps: int) -> list[float]:
    """``steps`` geometric rates from ``start``, rounded to 0.1/s."""
    return [round(start * factor**i, 1) for i in range(steps)]


def _run_at(dsn: str, workload: scenarios.Workload, rate: float, step_s: float) -> Step:
    spec = workload.spec
    shape = replace(spec.full, rate_per_s=rate, duration_s=step_s, max_requests=10**6)
    result = driver.run_scenario(
        dsn,
        name=spec.name,
        make_request=workload.make_request,
        shape=shape,
        background=workload.background(),
    )
    print(diagnose.summary(result, budget_ms=spec.budget_ms), flush=True)
    return _step(result, spec.budget_ms)


def sweep(
    dsn: str, workload: scenarios.Workload, candidates: Sequence[float], step_s: float
) -> list[Step]:
    """Raise the rate until a step leaves the budget, then try once between the last two."""
    steps: list[Step] = []
    for rate in candidates:
        steps.append(_run_at(dsn, workload, rate, step_s))
        if not steps[-1].within:
            break
    if len(steps) >= 2 and not steps[-1].within:
        middle = round((steps[-2].rate * steps[-1].rate) ** 0.5, 1)
        steps.append(_run_at(dsn, workload, middle, step_s))
    return sorted(steps, key=lambda s: s.rate)


def highest_within(steps: Sequence[Step]) -> Step | None:
    """The highest rate that stayed within budget with every lower rate also within."""
    best = None
    for step in steps:
        if not step.within:
            break
        best = step
    return best


def sweep_scenario(
    server: ServerHandle,
    template: str,
    spec: ScenarioSpec,
    catalog: Catalog,
    *,
    step_s: float,
    start: float | None = None,
    factor: float = 1.5,
) -> list[Step]:
    """The sweep of one scenario on its own clone of the template."""
    pickers = {n: p.read_text() for n, p in catalog.pickers.items()}
    with database.scratch_database(server, template=template, label="sweep") as dsn:
        with database.connect(dsn) as conn:
            workload = scenarios.prepare(conn, spec, pickers)
        first = start or spec.short.rate_per_s
        return sweep(dsn, workload, rates(first, factor, 16), step_s)


def start_rate(options: Sequence[str], name: str) -> float | None:
    """The first rate for scenario ``name`` from ``--start`` values (``RATE`` or ``NAME=RATE``)."""
    found = None
    for option in options:
        scenario, _, rate = option.rpartition("=")
        if scenario in ("", name):
            found = float(rate)
    return found


def map_steps(steps: Sequence[Step]) -> list[dict[str, object]]:
    """JSON-ready steps."""
    return [asdict(s) for s in steps]
