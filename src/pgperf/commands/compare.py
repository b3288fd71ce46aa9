"""`pgperf compare BASELINE RESULTS` and `pgperf verdict [RESULTS]`: the gate on results files.

Exit 0 pass, 1 regression, 2 a bad file. No database is needed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pgperf.commands.output import add_output_options, emit, path_or_none
from pgperf.config import Config
from pgperf.options import add_options
from pgperf.verdict.findings import Thresholds
from pgperf.verdict.record import ResultsFile
from pgperf.verdict.results import load_results
from pgperf.verdict.verdict import judge_files


def default_results(config: Config) -> Path:
    """Where `make perf` leaves the latest results."""
    return config.reports / "results.json"


def stored_baseline(config: Config, results: ResultsFile) -> ResultsFile | None:
    """The baseline to judge against: the one named, else the profile's stored one, if any."""
    # A baseline named on purpose must exist; the profile's default one may not exist yet.
    if config.baseline is not None:
        return load_results(config.baseline, role="baseline")
    path = config.layout.baseline_for(results.meta.profile)
    if path.exists():
        return load_results(path, role="baseline")
    print(
        f"no baseline at {path}: checking budgets and plans only, nothing is compared. "
        f"Record one from these results with `make baseline` (or `pgperf baseline promote "
        f"{results.path}`), or pass --baseline PATH."
    )
    return None


def run_compare(args: argparse.Namespace, config: Config) -> int:
    """The verdict of two results files; exit 1 on regression."""
    baseline = load_results(Path(args.baseline_file), role="baseline")
    results = load_results(Path(args.results_file))
    verdict = judge_files(
        baseline, results, Thresholds.from_config(config), root=config.project_root
    )
    return emit(verdict, markdown=path_or_none(args.markdown), json_path=path_or_none(args.json))


def run_verdict(args: argparse.Namespace, config: Config) -> int:
    """Judge the latest results against the profile's stored baseline (none: budgets, plans)."""
    path = Path(args.results_file) if args.results_file else default_results(config)
    results = load_results(path)
    verdict = judge_files(
        stored_baseline(config, results),
        results,
        Thresholds.from_config(config),
        root=config.project_root,
    )
    return emit(verdict, markdown=path_or_none(args.markdown), json_path=path_or_none(args.json))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`compare` and `verdict`."""
    comp = sub.add_parser("compare", help="the verdict of RESULTS against BASELINE (no database)")
    comp.add_argument("baseline_file", metavar="BASELINE", help="a baseline results file")
    comp.add_argument("results_file", metavar="RESULTS", help="the results file to judge")
    add_output_options(comp)
    add_options(comp.add_argument, ("verdict", "paths"))
    comp.set_defaults(handler=run_compare)

    verdict = sub.add_parser(
        "verdict", help="judge the latest results against baselines/<profile>.json (make perf)"
    )
    verdict.add_argument("results_file", nargs="?", metavar="RESULTS", help="reports/results.json")
    add_output_options(verdict)
    add_options(verdict.add_argument, ("verdict", "paths"))
    verdict.set_defaults(handler=run_verdict)
