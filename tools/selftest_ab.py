"""A/A runs of the same-run A/B: base = head, N times; false alarms and the detectable change.

Re-runnable (`make selftest-ab RUNS=10 PROFILE=ci`): provisions one server, exports HEAD's
platform as the base arm, prepares both arms' templates once, then measures every
benchmark N times in paired rounds (each run on fresh clones) and judges each run as
`pgperf ab` does. Nothing differs between the arms, so every failure is a false alarm. The
minimum detectable change of a benchmark is its interval's half-width; per feature, the
worst benchmark's. `--busy K` keeps K CPU-bound processes running beside the measurement
(a neighbour on a shared runner). Writes the arms' files and a summary under
reports/selftest-ab-<profile>/. Exit 1 when any run raised a false alarm.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from pgperf.checkout import export_platform, repository_root, resolve
from pgperf.config import Config, Layout, resolve_config
from pgperf.data.database import provisioned
from pgperf.errors import PgperfError
from pgperf.measure.ab import prepare_arms, run_ab
from pgperf.measure.run import run_metadata
from pgperf.progress import make_reporter
from pgperf.verdict.document import render_results
from pgperf.verdict.findings import Thresholds
from pgperf.verdict.record import AbArm
from pgperf.verdict.results import load_results, write_file
from pgperf.verdict.verdict import Verdict, compare_paired

_BUSY_LOOP = "while True: pass"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="A/A runs (at least 1)")
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--backend", default=None, help="default: PGPERF_BACKEND, else auto")
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes beside it")
    parser.add_argument("--select", action="append", help="only these keys (fnmatch)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


@contextmanager
def _busy(count: int) -> Iterator[None]:
    """``count`` processes spinning on a core each, for the block."""
    spinners = [subprocess.Popen([sys.executable, "-c", _BUSY_LOOP]) for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def _unchanged_platform(config: Config) -> str:
    """HEAD's commit, once sure the working tree's platform is HEAD's (else it is no A/A)."""
    root = repository_root(config.project_root)
    names = [str(config.project_root / name) for name in Layout.PLATFORM]
    diff = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", *names], cwd=root, check=False)
    if diff.returncode != 0:
        raise PgperfError(
            "the working tree's platform differs from HEAD, so base = head is no A/A",
            hint="commit or stash the changes to sql/, fixtures/ or budgets.toml first",
        )
    return resolve(root, "HEAD")


def _judge(config: Config, paths: tuple[Path, Path]) -> Verdict:
    base = load_results(paths[0], role="base arm")
    head = load_results(paths[1], role="head arm")
    return compare_paired(base, head, Thresholds.from_config(config), root=config.project_root)


def _one_run(args: argparse.Namespace, config: Config, out: Path, index: int) -> Verdict:
    root = repository_root(config.project_root)
    commit = _unchanged_platform(config)
    reporter = make_reporter(enabled=index == 1)
    with tempfile.TemporaryDirectory(prefix="pgperf-aa-") as folder:
        base_root = export_platform(root, commit, Path(folder), project=config.project_root)
        base_config = replace(config, project_root=base_root, reports_dir=config.reports)
        with provisioned(config, announce=index == 1) as server:
            arms = prepare_arms(server, base_config, config, reporter=reporter)
            measured = run_ab(server, arms, select=args.select or (), seed=index, reporter=reporter)
            metas = (
                run_metadata(base_config, server, commit=commit),
                run_metadata(config, server, commit=commit),
            )
    place = measured.placement
    arm = AbArm("base", "HEAD", commit, commit, place.pinned, place.described)
    paths = (out / f"run{index}-base.json", out / f"run{index}-head.json")
    write_file(paths[0], render_results(replace(metas[0], ab=arm), measured.base), role="base")
    head_arm = replace(arm, arm="head")
    write_file(paths[1], render_results(replace(metas[1], ab=head_arm), measured.head), role="head")
    return _judge(config, paths)


@dataclass(frozen=True)
class Summary:
    """N A/A runs: false alarms, unstable ones, and the detectable change per feature."""

    runs: int
    busy: int
    alarms: tuple[tuple[int, str, str], ...]  # (run, key, reason)
    unstable: int
    comparisons: int
    mde: dict[str, float]  # feature -> worst half-width of a benchmark's interval
    typical: dict[str, float]  # feature -> median half-width
    worst_change: dict[str, float]  # feature -> the largest A/A change seen
    seconds: tuple[float, ...]


def _summary(verdicts: list[Verdict], busy: int, seconds: list[float]) -> Summary:
    widths: dict[str, list[float]] = {}
    changes: dict[str, list[float]] = {}
    for verdict in verdicts:
        for bench in verdict.benchmarks:
            if bench.paired is not None:
                widths.setdefault(bench.feature, []).append(bench.paired.half_width)
                changes.setdefault(bench.feature, []).append(bench.paired.change)
    return Summary(
        runs=len(verdicts),
        busy=busy,
        alarms=tuple(
            (i, str(b.key), b.reason) for i, v in enumerate(verdicts, start=1) for b in v.failures
        ),
        unstable=sum(len(v.unstable) for v in verdicts),
        comparisons=sum(len(v.benchmarks) for v in verdicts),
        mde={f: max(w) for f, w in sorted(widths.items())},
        typical={f: statistics.median(w) for f, w in sorted(widths.items())},
        worst_change={f: max(c, key=abs) for f, c in sorted(changes.items())},
        seconds=tuple(round(s, 1) for s in seconds),
    )


def _print(summary: Summary) -> None:
    print(
        f"\nA/A of the same-run A/B: {summary.runs} runs, {summary.busy} CPU-bound "
        "process(es) beside"
    )
    print(f"false alarms: {len(summary.alarms)} of {summary.comparisons} comparisons")
    for run, key, reason in summary.alarms:
        print(f"  run {run}: {key}: {reason}")
    print(f"unstable (interval too wide to decide): {summary.unstable}")
    print("minimum detectable change (95% interval half-width), worst benchmark per feature:")
    for feature, width in summary.mde.items():
        print(
            f"  {feature:<12} worst ±{width:.1%}, median ±{summary.typical[feature]:.1%}; "
            f"largest A/A change {summary.worst_change[feature]:+.1%}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the A/A runs, print and write the summary."""
    args = _parse(argv)
    config = resolve_config(cli={"profile": args.profile, "backend": args.backend})
    out = config.reports / f"selftest-ab-{config.profile}"
    out.mkdir(parents=True, exist_ok=True)
    verdicts, seconds = [], []
    with _busy(args.busy):
        for index in range(1, args.runs + 1):
            started = time.monotonic()
            verdicts.append(_one_run(args, config, out, index))
            seconds.append(time.monotonic() - started)
            print(
                f"run {index}/{args.runs}: {verdicts[-1].headline} ({seconds[-1]:.0f} s)",
                flush=True,
            )
    summary = _summary(verdicts, args.busy, seconds)
    _print(summary)
    path = out / "summary.json"
    path.write_text(json.dumps(asdict(summary), indent=2) + "\n")
    print(f"summary: {path}")
    return 1 if summary.alarms else 0


if __name__ == "__main__":
    sys.exit(main())
