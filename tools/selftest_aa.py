"""A/A runs of the gate: N unchanged runs of the suite, each judged against the first.

Re-runnable (`make selftest-aa RUNS=5 PROFILE=ci`): provisions one server (the configured
backend), finds or builds the profile's templates once, then runs the perf suite N times in
subprocesses against it (dsn backend, each run on its own clone) and judges runs 2..N
against run 1 with the gate's thresholds. Nothing changed between the runs, so every
failure is a false alarm. Prints the false alarms and the run-to-run spread of medians
(max/min ratio of each benchmark's median, worst per feature); writes the results files and
a summary JSON under reports/selftest-aa-<profile>/. Exit 1 when any run raised an alarm.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from pgperf.config import Config, resolve_config
from pgperf.data.database import provisioned
from pgperf.indexes.template import ensure_bench_chain
from pgperf.progress import make_reporter
from pgperf.verdict.findings import Thresholds
from pgperf.verdict.record import ResultsFile
from pgperf.verdict.selftest import AaSummary, FalseAlarm, Suite, aa_summary


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="unchanged runs (at least 2)")
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--backend", default=None, help="default: PGPERF_BACKEND, else auto")
    parser.add_argument(
        "--select",
        nargs="+",
        default=["tests/perf"],
        help="test paths to run (default: the whole suite, as `make perf` selects it)",
    )
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2 (run 1 is the baseline)")
    return args


def _run_all(suite: Suite, runs: int, out: Path) -> list[ResultsFile]:
    files = []
    for index in range(1, runs + 1):
        start = time.monotonic()
        run = suite.run(out / f"run{index}.json")
        seconds = time.monotonic() - start
        if not run.results.exists():
            raise SystemExit(f"run {index} wrote no results file:\n{run.tail}")
        files.append(run.load())
        print(
            f"run {index}/{runs}: pytest exit {run.returncode} in {seconds:.0f} s, "
            f"CPU pressure {_pressure(files[-1])}",
            flush=True,
        )
    return files


def _pressure(run: ResultsFile) -> str:
    values = sorted(b.cpu_pressure for b in run.benchmarks if b.cpu_pressure is not None)
    if not values:
        return "unknown (no /proc/pressure/cpu)"
    return f"median {statistics.median(values):.0%} (min {values[0]:.0%}, max {values[-1]:.0%})"


def _print(summary: AaSummary) -> None:
    print(f"\nA/A: {summary.runs} runs, each judged against run 1")
    for run, changed in summary.skipped.items():
        print(f"  run {run} left out: the tree changed since run 1 ({', '.join(changed)})")
    print(f"false alarms: {len(summary.false_alarms)} in {summary.failed_runs} failing run(s)")
    _print_alarms(summary.false_alarms)
    print(
        f"latency gated in {summary.latency_gated} of {summary.compared} comparisons (the rest "
        "were measured on a busy machine: information only)"
    )
    ignored = summary.alarms_if_busy_ignored
    print(f"alarms had the busy-machine exemption been off: {len(ignored)}")
    _print_alarms(ignored)
    print("run-to-run spread of medians (max/min, worst benchmark of each feature):")
    for feature, ratio in summary.spread.items():
        print(f"  {feature:<12} {ratio:.3f}")


def _print_alarms(alarms: tuple[FalseAlarm, ...]) -> None:
    for alarm in alarms:
        rule = alarm.rule.value if alarm.rule else "-"
        print(f"  run {alarm.run}: {alarm.key} [{rule}] {alarm.reason}")


def _alarm_data(alarms: tuple[FalseAlarm, ...]) -> list[dict[str, object]]:
    return [
        {
            "run": a.run,
            "key": str(a.key),
            "rule": a.rule.value if a.rule else None,
            "reason": a.reason,
        }
        for a in alarms
    ]


def _write(summary: AaSummary, config: Config, out: Path) -> Path:
    path = out / "summary.json"
    data = {
        "profile": config.profile,
        "runs": summary.runs,
        "skipped": summary.skipped,
        "failed_runs": summary.failed_runs,
        "false_alarms": _alarm_data(summary.false_alarms),
        "compared": summary.compared,
        "latency_gated": summary.latency_gated,
        "alarms_if_busy_ignored": _alarm_data(summary.alarms_if_busy_ignored),
        "spread_by_feature": summary.spread,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Provision, ensure the templates, run N times, judge, print and write the summary."""
    args = _parse(argv)
    config = resolve_config(cli={"profile": args.profile, "backend": args.backend})
    out = config.reports / f"selftest-aa-{config.profile}"
    out.mkdir(parents=True, exist_ok=True)
    with provisioned(config) as server:
        ensure_bench_chain(server, config, reporter=make_reporter(enabled=True))
        suite = Suite(
            conninfo=server.conninfo,
            profile=config.profile,
            seed=config.seed,
            project_root=config.project_root,
            selection=tuple(args.select),
        )
        files = _run_all(suite, args.runs, out)
    summary = aa_summary(files, Thresholds.from_config(config))
    _print(summary)
    print(f"summary: {_write(summary, config, out)}")
    return 1 if summary.false_alarms else 0


if __name__ == "__main__":
    sys.exit(main())
