"""The gate's commands: `compare`, `verdict` (what `make perf` runs) and `baseline promote`.

Registered on `pgperf`'s parser by `pgperf.cli`; each handler returns the exit code
(0 pass, 1 regression) and lets a PgperfError through for the CLI to turn into exit 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pgperf.compare import Thresholds, Verdict, compare
from pgperf.config import Config
from pgperf.results import (
    ResultsFile,
    check_comparable,
    default_baseline_path,
    load_results,
    promote,
)

EXIT_PASS, EXIT_REGRESSION = 0, 1

#: Options every verdict command takes; each sets the Config field of the same name.
THRESHOLD_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("--regression-threshold", "regression_threshold", "tolerated change, e.g. 20%% (default)"),
    ("--latency-floor-ms", "latency_floor_ms", "latency changes below this never fail (0.5)"),
    ("--significance", "significance", "Mann-Whitney p below which a slowdown counts (0.01)"),
)


def _add_verdict_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--markdown", metavar="FILE", help="also write a PR-comment summary")
    for flag, dest, help_text in THRESHOLD_OPTIONS:
        parser.add_argument(flag, dest=dest, help=help_text)


def report(verdict: Verdict, markdown: Path | None) -> int:
    """Print the verdict, write the markdown summary if asked; the exit code of the gate."""
    from pgperf.report.markdown import write_markdown
    from pgperf.report.terminal import print_verdict

    print_verdict(verdict)
    if markdown is not None:
        write_markdown(verdict, markdown)
        print(f"markdown summary: {markdown}")
    return EXIT_REGRESSION if verdict.failed else EXIT_PASS


def judge_files(baseline: ResultsFile | None, results: ResultsFile, config: Config) -> Verdict:
    """Check the files can be compared, then compare them with the Config's thresholds."""
    if baseline is not None:
        check_comparable(baseline, results)
    return compare(baseline, results, Thresholds.from_config(config))


def cmd_compare(args: argparse.Namespace, config: Config) -> int:
    """`compare BASELINE RESULTS`: the verdict of two results files; exit 1 on regression."""
    baseline = load_results(Path(args.baseline_file), role="baseline")
    results = load_results(Path(args.results_file))
    verdict = judge_files(baseline, results, config)
    return report(verdict, Path(args.markdown) if args.markdown else None)


def cmd_verdict(args: argparse.Namespace, config: Config) -> int:
    """`verdict [RESULTS]`: compare with the profile's stored baseline; none there is no failure."""
    results_path = Path(args.results_file) if args.results_file else _default_results(config)
    results = load_results(results_path)
    baseline = _stored_baseline(config, results, results_path)
    verdict = judge_files(baseline, results, config)
    markdown = Path(args.markdown) if args.markdown else config.reports_dir / "verdict.md"
    return report(verdict, markdown)


def _stored_baseline(
    config: Config, results: ResultsFile, results_path: Path
) -> ResultsFile | None:
    # A baseline named on purpose must exist; the profile's default one may not exist yet.
    if config.baseline is not None:
        return load_results(config.baseline, role="baseline")
    path = default_baseline_path(config.project_root, results.meta.profile)
    if path.exists():
        return load_results(path, role="baseline")
    print(
        f"no baseline at {path}: checking budgets and plans only, nothing is compared. "
        f"Record one from these results with `make baseline` (or `pgperf baseline promote "
        f"{results_path}`), or pass --baseline PATH."
    )
    return None


def _default_results(config: Config) -> Path:
    return config.reports_dir / "results.json"


def cmd_baseline(args: argparse.Namespace, config: Config) -> int:
    """`baseline promote [RESULTS] [--to PATH]`: validate, then write the baseline atomically."""
    source = Path(args.results_file) if args.results_file else _default_results(config)
    parsed = load_results(source)
    target = (
        Path(args.to)
        if args.to
        else default_baseline_path(config.project_root, parsed.meta.profile)
    )
    promote(source, target)
    print(
        f"baseline for profile {parsed.meta.profile!r} ({len(parsed.benchmarks)} benchmarks) "
        f"written to {target}"
    )
    return EXIT_PASS


def add_gate_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `compare`, `verdict` and `baseline` on pgperf's subcommand parser."""
    comp = sub.add_parser("compare", help="the verdict of RESULTS against BASELINE (no database)")
    comp.add_argument("baseline_file", metavar="BASELINE", help="a baseline results file")
    comp.add_argument("results_file", metavar="RESULTS", help="the results file to judge")
    _add_verdict_options(comp)
    comp.set_defaults(handler=cmd_compare)

    verdict = sub.add_parser(
        "verdict", help="judge the latest results against baselines/<profile>.json (make perf)"
    )
    verdict.add_argument("results_file", nargs="?", metavar="RESULTS", help="reports/results.json")
    verdict.add_argument("--baseline", dest="baseline", help="default: baselines/<profile>.json")
    _add_verdict_options(verdict)
    verdict.set_defaults(handler=cmd_verdict)

    baseline = sub.add_parser("baseline", help="promote results to the stored baseline")
    baseline.add_argument("action", choices=("promote",))
    baseline.add_argument("results_file", nargs="?", metavar="RESULTS", help="reports/results.json")
    baseline.add_argument("--to", help="default: baselines/<profile of the results>.json")
    baseline.set_defaults(handler=cmd_baseline)
