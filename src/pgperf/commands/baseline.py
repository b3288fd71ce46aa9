"""`pgperf baseline promote [RESULTS] [--to PATH]`: keep validated results as the baseline."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgperf.commands.compare import default_results
from pgperf.config import Config
from pgperf.errors import EXIT_PASS
from pgperf.options import add_options
from pgperf.verdict.results import load_results, promote


def run(args: argparse.Namespace, config: Config) -> int:
    """Validate, then write the baseline atomically."""
    source = Path(args.results_file) if args.results_file else default_results(config)
    parsed = load_results(source)
    target = Path(args.to) if args.to else config.layout.baseline_for(parsed.meta.profile)
    promote(source, target)
    print(
        f"baseline for profile {parsed.meta.profile!r} ({len(parsed.benchmarks)} benchmarks) "
        f"written to {target}"
    )
    return EXIT_PASS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`baseline promote`."""
    parser = sub.add_parser("baseline", help="promote results to the stored baseline")
    parser.add_argument("action", choices=("promote",))
    parser.add_argument("results_file", nargs="?", metavar="RESULTS", help="reports/results.json")
    parser.add_argument("--to", help="default: baselines/<profile of the results>.json")
    add_options(parser.add_argument, ("paths",))
    parser.set_defaults(handler=run)
