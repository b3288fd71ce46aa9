"""`pgperf load-sweep`: raise each load scenario's rate until p95 leaves its budget.

Each rate runs for ``--step-s`` seconds on a clone of the bench template; the sweep stops
at the first rate that is not sustained within budget, then tries once between the last
two rates. Every step goes to ``reports/load-sweep.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pgperf.config import Config
from pgperf.errors import EXIT_PASS, ConfigError
from pgperf.options import add_options
from pgperf.verdict.results import write_file


def run(args: argparse.Namespace, config: Config) -> int:
    """Sweep the scenarios chosen (all by default) and write the steps."""
    from pgperf.data.database import provisioned
    from pgperf.indexes.template import ensure_bench_chain
    from pgperf.load import scenarios, sweep
    from pgperf.measure.catalog import catalog_of
    from pgperf.progress import make_reporter

    catalog = catalog_of(config.layout)
    specs = scenarios.load_scenarios(config.layout.load_dir, catalog, seed=config.seed)
    unknown = sorted(set(args.scenario or ()) - set(specs))
    if unknown:
        raise ConfigError(
            f"no load scenario {', '.join(unknown)} in {config.layout.load_dir}/scenarios.toml",
            hint=f"choose among {', '.join(specs)}",
        )
    chosen = [specs[n] for n in args.scenario or specs]
    report: dict[str, object] = {}
    with provisioned(config) as server:
        template = ensure_bench_chain(server, config, reporter=make_reporter(enabled=True)).bench
        for spec in chosen:
            steps = sweep.sweep_scenario(
                server,
                template.name,
                spec,
                catalog,
                step_s=args.step_s,
                start=sweep.start_rate(args.start, spec.name),
                factor=args.factor,
            )
            best = sweep.highest_within(steps)
            report[spec.name] = {
                "budget_ms": spec.budget_ms,
                "highest_rate_within_budget": best.rate if best else None,
                "steps": sweep.map_steps(steps),
            }
    output = Path(args.output) if args.output else config.reports / "load-sweep.json"
    write_file(output, json.dumps(report, indent=2) + "\n", role="sweep report")
    print(f"sweep written to {output}")
    return EXIT_PASS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`load-sweep`."""
    parser = sub.add_parser("load-sweep", help="the highest sustained rate of each scenario")
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
    parser.add_argument("-o", "--output", help="default reports/load-sweep.json")
    add_options(parser.add_argument, ("server", "paths"))
    parser.set_defaults(handler=run)
