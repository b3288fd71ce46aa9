"""Rate sweep of the load scenarios: the highest sustained rate within budget, and the limit.

``python -m pgperf.loadsweep [--profile ci] [--scenario NAME] [--step-s 8]`` (or
``make perf-load-sweep``) raises each scenario's arrival rate step by step on a clone of
the benchmark template until p95 leaves the budget or the server stops keeping up, and
writes every step to ``reports/load-sweep.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from pgperf import database, indexes, load, loadsummary, scenarios, seeding
from pgperf.catalog import Catalog, default_catalog
from pgperf.config import Config, resolve_config
from pgperf.errors import PgperfError
from pgperf.provision import ServerHandle, provision
from pgperf.scenarios import ScenarioSpec


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


def _step(result: load.ScenarioResult, budget_ms: float) -> Step:
    found = loadsummary.bottleneck(result)
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
        cpu=loadsummary.cpu_text(result),
        lock_wait_s=round(result.server.lock_wait_s, 2),
        pool_wait_ms=round(result.pool_wait_ms, 2),
    )


def rates(start: float, factor: float, steps: int) -> list[float]:
    """``steps`` geometric rates from ``start``, rounded to 0.1/s."""
    return [round(start * factor**i, 1) for i in range(steps)]


def _run_at(dsn: str, workload: scenarios.Workload, rate: float, step_s: float) -> Step:
    spec = workload.spec
    shape = replace(spec.full, rate_per_s=rate, duration_s=step_s, max_requests=10**6)
    result = load.run_scenario(
        dsn,
        name=spec.name,
        make_request=workload.make_request,
        shape=shape,
        background=workload.background(),
    )
    print(loadsummary.summary(result, budget_ms=spec.budget_ms), flush=True)
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


@contextmanager
def bench_server(config: Config) -> Iterator[tuple[ServerHandle, str]]:
    """A server holding the benchmark template of ``config``'s profile, and its name."""
    with provision(config) as server:
        seeded = seeding.ensure_seeded_template(server, config)
        bench = indexes.ensure_bench_template(server, config, seeded)
        yield server, bench.name


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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m pgperf.loadsweep``."""
    parser = argparse.ArgumentParser(prog="pgperf-load-sweep", description=__doc__)
    parser.add_argument("--profile", help="ci | default | large")
    parser.add_argument("--scenario", action="append", help="only these (repeatable)")
    parser.add_argument("--step-s", type=float, default=8.0, help="seconds per rate")
    parser.add_argument(
        "--start",
        action="append",
        default=[],
        metavar="[NAME=]RATE",
        help="first rate, for every scenario or one (default: the scenario's short rate)",
    )
    parser.add_argument("--factor", type=float, default=1.5, help="rate growth per step")
    parser.add_argument("-o", "--output", default="reports/load-sweep.json")
    args = parser.parse_args(argv)
    try:
        config = resolve_config(cli={"profile": args.profile})
        catalog = default_catalog(config.project_root)
        specs = scenarios.load_scenarios(config.sql_dir / "load", catalog, seed=config.seed)
        chosen = [specs[n] for n in args.scenario or specs]
        report: dict[str, object] = {}
        with bench_server(config) as (server, template):
            for spec in chosen:
                steps = sweep_scenario(
                    server,
                    template,
                    spec,
                    catalog,
                    step_s=args.step_s,
                    start=start_rate(args.start, spec.name),
                    factor=args.factor,
                )
                best = highest_within(steps)
                report[spec.name] = {
                    "budget_ms": spec.budget_ms,
                    "highest_rate_within_budget": best.rate if best else None,
                    "steps": map_steps(steps),
                }
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(report, indent=2))
        print(f"sweep written to {args.output}")
        return 0
    except PgperfError as exc:
        print(f"pgperf: error: {exc}", file=sys.stderr)
        return exc.exit_code


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


if __name__ == "__main__":
    sys.exit(main())
