"""The gate's self-check: run the perf suite in a subprocess against one server, judge runs.

Used by the self-test (``tests/selftest``) and the A/A script (``tools/selftest_aa.py``).
Every run goes through the ``dsn`` backend to a server the caller already holds, so all runs
share its seeded and bench templates (the local backend's cluster is locked by its holder:
a second holder would get a throwaway cluster and reseed). Each run measures its own clone.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from xml.etree import ElementTree

from pgperf.stats import spread
from pgperf.verdict.findings import Rule, Thresholds
from pgperf.verdict.record import BenchmarkKey, ResultsFile, WhatIf
from pgperf.verdict.results import load_results
from pgperf.verdict.rules import busy_machine
from pgperf.verdict.verdict import Verdict, judge_files

#: The perf suite as `make perf` selects it (no cross-checks, no load scenarios).
MARKERS = "not slow and not load"
#: How much of a failed run's output an error message quotes.
_TAIL_CHARS = 4000
#: A failed benchmark's assertion in pytest's junit report: ``AssertionError: <key>: ...``.
_FAILED = re.compile(r"AssertionError: (\S+/\S+\|\S+\|\S+): ")


@dataclass(frozen=True)
class SuiteRun:
    """One run of the perf suite in a subprocess: its exit code, results file and output."""

    results: Path
    returncode: int
    output: str

    @property
    def failed_keys(self) -> set[BenchmarkKey]:
        """The benchmarks whose pytest test failed (their assertion names the key first)."""
        report = ElementTree.parse(self.results.with_suffix(".xml"))
        messages = [f.get("message", "") for f in report.iter("failure")]
        return {BenchmarkKey.parse(m.group(1)) for m in map(_FAILED.match, messages) if m}

    @property
    def tail(self) -> str:
        """The end of the run's output, for a failure message."""
        return self.output[-_TAIL_CHARS:]

    def load(self) -> ResultsFile:
        """The run's results file, parsed (a ResultsFileError when the run wrote none)."""
        return load_results(self.results)


@dataclass(frozen=True)
class Suite:
    """What every run of one self-check shares: the server, the data, the selection."""

    conninfo: str  # the server's maintenance database (the dsn backend's target)
    profile: str
    seed: int
    project_root: Path
    selection: tuple[str, ...] = ("tests/perf",)  # test paths, relative to project_root
    timeout_s: float = 900.0

    def command(self, results: Path, what_if: WhatIf, baseline: Path | None = None) -> list[str]:
        """The pytest command line of one run (judged in-process against ``baseline``)."""
        return [
            sys.executable,
            "-m",
            "pytest",
            *self.selection,
            "-m",
            MARKERS,
            "-q",
            "-p",
            "no:cacheprovider",
            "--profile",
            self.profile,
            "--seed",
            str(self.seed),
            "--benchmark-json",
            str(results),
            f"--junitxml={results.with_suffix('.xml')}",
            *what_if.cli_args(),
            *(["--baseline", str(baseline)] if baseline else []),
        ]

    def child_env(self) -> dict[str, str]:
        """The run's environment: this server through the dsn backend.

        The DSN travels in the environment, never on a command line that ``ps`` shows.
        """
        kept = {k: v for k, v in os.environ.items() if not k.startswith("PGPERF_")}
        return {**kept, "PGPERF_BACKEND": "dsn", "PGPERF_DSN": self.conninfo}

    def run(
        self, results: Path, what_if: WhatIf | None = None, *, baseline: Path | None = None
    ) -> SuiteRun:
        """Run the suite once (optionally as a what-if, or judged against ``baseline``)."""
        results.unlink(missing_ok=True)  # a stale file must not pass for this run's
        done = subprocess.run(
            self.command(results, what_if or WhatIf(), baseline),
            cwd=self.project_root,
            env=self.child_env(),
            capture_output=True,
            text=True,
            timeout=self.timeout_s,
            check=False,
        )
        return SuiteRun(results, done.returncode, done.stdout + done.stderr)


def judge(baseline: ResultsFile, results: ResultsFile, thresholds: Thresholds) -> Verdict:
    """The gate's verdict on two runs of the same data."""
    return judge_files(baseline, results, thresholds)


def spread_by_key(runs: Sequence[ResultsFile]) -> dict[BenchmarkKey, float]:
    """Run-to-run spread (max/min of the medians) of each benchmark measured in every run."""
    if not runs:
        return {}
    common = set.intersection(*({b.key for b in run.benchmarks} for run in runs))
    medians: dict[BenchmarkKey, list[float]] = {key: [] for key in common}
    for run in runs:
        for bench in run.benchmarks:
            if bench.key in medians:
                medians[bench.key].append(bench.median_ms)
    return {key: spread(values) for key, values in sorted(medians.items())}


def spread_by_feature(runs: Sequence[ResultsFile]) -> dict[str, float]:
    """The worst run-to-run spread of medians among each feature's benchmarks."""
    worst: dict[str, float] = {}
    for key, value in spread_by_key(runs).items():
        worst[key.feature] = max(value, worst.get(key.feature, 1.0))
    return dict(sorted(worst.items()))


def tree_changes(baseline: ResultsFile, results: ResultsFile) -> list[str]:
    """Content hashes (schema, generators, indexes, queries, ...) that differ between runs.

    In a tree others edit, a file saved between two runs makes the second run measure other
    data or queries: its differences are real, and such a pair is no A/A comparison.
    """
    before, after = baseline.meta.hashes, results.meta.hashes
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


@dataclass(frozen=True)
class FalseAlarm:
    """A benchmark an unchanged run failed: which run, which rule, why."""

    run: int
    key: BenchmarkKey
    rule: Rule | None
    reason: str


@dataclass(frozen=True)
class AaSummary:
    """N unchanged runs, each judged against the first."""

    runs: int
    false_alarms: tuple[FalseAlarm, ...]
    spread: dict[str, float]  # feature -> worst max/min ratio of a benchmark's medians
    # Runs left out because the tree changed since run 1 (run -> changed content hashes).
    skipped: dict[int, list[str]]
    compared: int  # benchmark comparisons (runs 2..N x benchmarks in both)
    latency_gated: int  # of those, how many a busy machine did not turn into information
    # What the gate would have raised without the busy-machine exemption (rule 4).
    alarms_if_busy_ignored: tuple[FalseAlarm, ...] = ()

    @property
    def failed_runs(self) -> int:
        """How many runs the gate failed."""
        return len({alarm.run for alarm in self.false_alarms})


def aa_summary(runs: Sequence[ResultsFile], thresholds: Thresholds) -> AaSummary:
    """Judge runs 2..N against run 1; every failure is a false alarm (nothing changed).

    A run whose content hashes differ from run 1's (someone saved a file in between) is left
    out and listed in ``skipped``: it measured something else.
    """
    skipped = {i: c for i, run in enumerate(runs, start=1) if (c := tree_changes(runs[0], run))}
    kept = {i: run for i, run in enumerate(runs, start=1) if i not in skipped}
    later = {i: run for i, run in kept.items() if i > 1}
    ignore_busy = replace(thresholds, busy_pressure=math.inf)
    verdicts = {i: judge(runs[0], run, thresholds) for i, run in later.items()}
    pairs = [(b.current, b.baseline) for v in verdicts.values() for b in v.benchmarks]
    measured = [(c, b) for c, b in pairs if c is not None and b is not None]
    return AaSummary(
        runs=len(kept),
        false_alarms=_alarms(verdicts),
        spread=spread_by_feature(list(kept.values())),
        skipped=skipped,
        compared=len(measured),
        latency_gated=sum(busy_machine(c, b, thresholds) is None for c, b in measured),
        alarms_if_busy_ignored=_alarms(
            {i: judge(runs[0], run, ignore_busy) for i, run in later.items()}
        ),
    )


def _alarms(verdicts: Mapping[int, Verdict]) -> tuple[FalseAlarm, ...]:
    return tuple(
        FalseAlarm(index, bench.key, bench.rule, bench.reason)
        for index, verdict in verdicts.items()
        for bench in verdict.failures
    )
