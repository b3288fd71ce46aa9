"""The verdict on a whole results file, against a baseline or alone. Pure.

Each benchmark is judged by ``pgperf.verdict.rules.judge``; this module matches results to
the baseline by key, says why latency may not gate (another machine, PostgreSQL major or
backend; a busy machine), notes what changed between the runs, and sums up each feature.
The dataclasses below are the stable interface of every report (terminal, markdown, html,
JSON).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pgperf.files import display_path
from pgperf.stats import geometric_mean
from pgperf.verdict.findings import BenchmarkVerdict, Rule, Status, Thresholds
from pgperf.verdict.paired import paired_change
from pgperf.verdict.record import ResultsFile, RunMetadata
from pgperf.verdict.results import check_comparable
from pgperf.verdict.rules import judge, missing


@dataclass(frozen=True)
class FeatureSummary:
    """One feature at a glance: worst p95 against its budget, median change, outcome."""

    feature: str
    status: Status
    p95_ms: float | None  # the worst p95 of its benchmarks in the results
    budget_ms: float | None
    change: float | None  # geometric mean of the median ratios, minus 1
    benchmarks: int
    failures: int


@dataclass(frozen=True)
class Verdict:
    """The whole verdict: per benchmark, per feature, and why latency may not gate."""

    benchmarks: tuple[BenchmarkVerdict, ...]
    features: tuple[FeatureSummary, ...]
    thresholds: Thresholds
    profile: str
    has_baseline: bool
    latency_gates: bool
    latency_note: str | None = None  # why latency is information only
    notes: tuple[str, ...] = ()
    baseline_origin: str | None = None  # "path (commit, created_at)" of the baseline
    results_origin: str = ""
    against: str | None = None  # "same-run A/B against main (commit)" for an A/B verdict

    @property
    def failed(self) -> bool:
        """Whether any benchmark fails the gate."""
        return any(b.failed for b in self.benchmarks)

    @property
    def failures(self) -> tuple[BenchmarkVerdict, ...]:
        """The failing benchmarks, in table order."""
        return tuple(b for b in self.benchmarks if b.failed)

    @property
    def improvements(self) -> tuple[BenchmarkVerdict, ...]:
        """Benchmarks that improved beyond the thresholds."""
        return tuple(b for b in self.benchmarks if b.status is Status.IMPROVED)

    @property
    def unstable(self) -> tuple[BenchmarkVerdict, ...]:
        """Benchmarks whose latency interval was too wide to decide."""
        return tuple(b for b in self.benchmarks if b.status is Status.UNSTABLE)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Results that changed with their SQL, each once: they head every report."""
        return tuple(dict.fromkeys(w for b in self.benchmarks for w in b.warnings))

    @property
    def new(self) -> tuple[BenchmarkVerdict, ...]:
        """Benchmarks in the results that the baseline does not have."""
        return tuple(b for b in self.benchmarks if b.baseline is None and self.has_baseline)

    @property
    def missing(self) -> tuple[BenchmarkVerdict, ...]:
        """Benchmarks in the baseline that the results no longer have."""
        return tuple(b for b in self.benchmarks if b.status is Status.MISSING)

    @property
    def headline(self) -> str:
        """One line for a terminal or a PR comment."""
        measured = sum(b.current is not None for b in self.benchmarks)
        if self.failed:
            rules = count_rules(self.failures)
            return f"FAIL: {len(self.failures)} of {measured} benchmarks regressed ({rules})"
        if self.against:
            against = "against the base (same run)"
        elif self.has_baseline:
            against = "against the baseline"
        else:
            against = "(no baseline: budgets and plans only)"
        extra = f", {len(self.warnings)} result(s) changed" if self.warnings else ""
        extra += f", {len(self.improvements)} improved" if self.improvements else ""
        extra += f", {len(self.unstable)} unstable" if self.unstable else ""
        info = "; latency information only (see note)" if self.latency_note else ""
        return f"PASS: {measured} benchmarks, no regression {against}{extra}{info}"


def count_rules(failures: Iterable[BenchmarkVerdict]) -> str:
    """``plan 2, work 1``: how many failures each rule caught first."""
    counts: dict[Rule, int] = {}
    for bench in failures:
        if bench.rule is not None:
            counts[bench.rule] = counts.get(bench.rule, 0) + 1
    return ", ".join(f"{rule.value} {counts[rule]}" for rule in Rule if rule in counts)


def _pct(change: float) -> str:
    return f"{change:+.0%}"


def latency_not_gating(baseline: RunMetadata, results: RunMetadata) -> str | None:
    """Why latency against this baseline is information only, or None when it gates."""
    reasons = []
    before, after = baseline.machine, results.machine
    if before.fingerprint != after.fingerprint:
        reasons.append(
            f"another machine ({before.described} → {after.described})"
            if before.described != after.described
            else "another machine (fingerprint differs)"
        )
    elif (before.instance or after.instance) and before.instance != after.instance:
        # Hosted runners of one type share CPU model, cores and memory, not their speed.
        reasons.append("another boot or VM of the same machine type (its instance differs)")
    if baseline.postgres.major != results.postgres.major:
        reasons.append(
            f"another PostgreSQL major ({baseline.postgres.major} → {results.postgres.major})"
        )
    if baseline.backend and results.backend and baseline.backend != results.backend:
        reasons.append(f"another backend ({baseline.backend} → {results.backend})")
    if not reasons:
        return None
    return (
        f"the baseline comes from {' and '.join(reasons)}: latency is reported as information, "
        "not failure; plan, work and budget still gate (`pgperf ab` judges latency in one run)"
    )


def run_notes(
    baseline: RunMetadata, results: RunMetadata, *, other: str = "the baseline"
) -> tuple[str, ...]:
    """What changed between the two runs besides the code: what-ifs, content hashes, settings."""
    notes = [
        f"the {role} is a what-if run ({meta.what_if.described}): its plan and work "
        "changes were injected on purpose"
        for role, meta in (("baseline", baseline), ("results file", results))
        if meta.what_if
    ]
    changed = sorted(
        k
        for k in baseline.hashes.keys() & results.hashes.keys()
        if baseline.hashes[k] != results.hashes[k]
    )
    if changed:
        notes.append(
            f"changed against {other}: {', '.join(changed)} (content hashes differ); "
            "plan and work changes may come from them"
        )
    settings = sorted(
        k
        for k in baseline.postgres.settings.keys() | results.postgres.settings.keys()
        if baseline.postgres.settings.get(k) != results.postgres.settings.get(k)
    )
    if settings:
        before, after = baseline.postgres.settings, results.postgres.settings
        shown = ", ".join(f"{k} {before.get(k, '-')} → {after.get(k, '-')}" for k in settings[:5])
        more = f" and {len(settings) - 5} more" if len(settings) > 5 else ""
        notes.append(f"server settings differ from {other}: {shown}{more}")
    return tuple(notes)


def drift_note(benchmarks: Sequence[BenchmarkVerdict], thresholds: Thresholds) -> tuple[str, ...]:
    """A note when every benchmark moved together: a sign the machine, not the code, changed."""
    ratios = [1 + b.change for b in benchmarks if b.change is not None and b.change > -1]
    if len(ratios) < 3:  # too few benchmarks to tell a trend from a change
        return ()
    drift = geometric_mean(ratios) - 1
    if abs(drift) < thresholds.regression / 2:
        return ()
    return (
        f"the medians of all {len(ratios)} benchmarks moved by {_pct(drift)} on average: "
        "if no change touches them all, the machine was slower or faster than for the baseline",
    )


def busy_note(
    baseline: ResultsFile, results: ResultsFile, thresholds: Thresholds
) -> tuple[str, ...]:
    """A note when benchmarks were measured while other work queued for the CPUs."""
    base = baseline.by_key()
    by_key = {
        b.key: max(b.cpu_pressure or 0, base[b.key].cpu_pressure or 0)
        for b in results.benchmarks
        if b.key in base
    }
    busy = [p for p in by_key.values() if p > thresholds.busy_pressure]
    if not busy:
        return ()
    return (
        f"{len(busy)} of {len(by_key)} benchmarks were measured while the machine was busy "
        f"(CPU pressure above {thresholds.busy_pressure:.0%} in the run or the baseline, worst "
        f"{max(busy):.0%}): their latency is information, not failure; plan, work and budget "
        "still gate. Rerun on a quiet machine to gate latency",
    )


def summarize_features(benchmarks: Sequence[BenchmarkVerdict]) -> tuple[FeatureSummary, ...]:
    """One row per feature: worst p95, its budget, geometric-mean median change, outcome."""
    summaries = []
    for feature in sorted({b.feature for b in benchmarks}):
        members = [b for b in benchmarks if b.feature == feature]
        measured = [b.current for b in members if b.current is not None]
        budgets = [c.budget_ms for c in measured if c.budget_ms is not None]
        ratios = [1 + b.change for b in members if b.change is not None and b.change > -1]
        failures = sum(b.failed for b in members)
        summaries.append(
            FeatureSummary(
                feature=feature,
                status=_feature_status(members),
                p95_ms=max((c.p95_ms for c in measured), default=None),
                budget_ms=min(budgets, default=None),
                change=geometric_mean(ratios) - 1 if ratios else None,
                benchmarks=len(members),
                failures=failures,
            )
        )
    return tuple(summaries)


def _feature_status(members: Sequence[BenchmarkVerdict]) -> Status:
    statuses = {b.status for b in members}
    for status in (Status.FAIL, Status.UNSTABLE, Status.WARNING, Status.IMPROVED):
        if status in statuses:
            return status
    return Status.PASS


def compare(
    baseline: ResultsFile | None,
    results: ResultsFile,
    thresholds: Thresholds | None = None,
    *,
    root: Path | None = None,
) -> Verdict:
    """The verdict on ``results`` against ``baseline`` (None: a results-only, budget/plan verdict).

    The caller checks first that both come from the same data (:func:`judge_files` does).
    ``root`` makes the origins in the reports relative to the project.
    """
    thresholds = thresholds or Thresholds()
    base = baseline.by_key() if baseline else {}
    not_gating = latency_not_gating(baseline.meta, results.meta) if baseline else None
    verdicts = [
        judge(
            bench,
            base.get(bench.key),
            thresholds,
            not_gating=not_gating,
            is_new=baseline is not None and bench.key not in base,
        )
        for bench in results.benchmarks
    ]
    measured = {b.key for b in results.benchmarks}
    verdicts += [missing(b) for key, b in base.items() if key not in measured]
    verdicts.sort(key=lambda v: (v.feature, str(v.key)))
    return Verdict(
        benchmarks=tuple(verdicts),
        features=summarize_features(verdicts),
        thresholds=thresholds,
        profile=results.meta.profile,
        has_baseline=baseline is not None,
        latency_gates=baseline is not None and not_gating is None,
        latency_note=not_gating,
        notes=(
            *run_notes(baseline.meta, results.meta),
            *drift_note(verdicts, thresholds),
            *busy_note(baseline, results, thresholds),
        )
        if baseline
        else (),
        baseline_origin=origin(baseline, root=root) if baseline else None,
        results_origin=origin(results, root=root),
    )


def judge_files(
    baseline: ResultsFile | None,
    results: ResultsFile,
    thresholds: Thresholds,
    *,
    root: Path | None = None,
) -> Verdict:
    """Check the files can be compared (same profile and seed), then compare them."""
    if baseline is not None:
        check_comparable(baseline, results)
    return compare(baseline, results, thresholds, root=root)


def compare_paired(
    base: ResultsFile,
    head: ResultsFile,
    thresholds: Thresholds | None = None,
    *,
    root: Path | None = None,
) -> Verdict:
    """The verdict of a same-run A/B: the head arm against the base arm, round by round.

    Plan, work, load and budget rules run between the arms as against any baseline; the
    latency rule is the paired one (both arms shared the machine, round by round, so CPU
    pressure and another runner's speed exempt nothing).
    """
    thresholds = thresholds or Thresholds()
    check_comparable(base, head)
    before = base.by_key()
    verdicts = []
    for bench in head.benchmarks:
        other = before.get(bench.key)
        paired = (
            paired_change(other.samples_ms, bench.samples_ms, key=str(bench.key))
            if other is not None
            else None
        )
        verdicts.append(
            judge(bench, other, thresholds, is_new=other is None, same_run=True, paired=paired)
        )
    measured = {b.key for b in head.benchmarks}
    verdicts += [missing(b) for key, b in before.items() if key not in measured]
    verdicts.sort(key=lambda v: (v.feature, str(v.key)))
    arm = head.meta.ab
    return Verdict(
        benchmarks=tuple(verdicts),
        features=summarize_features(verdicts),
        thresholds=thresholds,
        profile=head.meta.profile,
        has_baseline=True,
        latency_gates=True,
        notes=(
            *ab_notes(base.meta, head.meta),
            *pressure_note(head),
            *run_notes(base.meta, head.meta, other="the base arm"),
        ),
        baseline_origin=origin(base, root=root),
        results_origin=origin(head, root=root),
        against=arm.against if arm else "same-run A/B",
    )


def ab_notes(base: RunMetadata, head: RunMetadata) -> tuple[str, ...]:
    """How the pairs were taken: pinned to cores, or not (and then why)."""
    arm = head.ab or base.ab
    if arm is None:
        return ()
    if arm.pinned:
        return (f"paired rounds, base and head in random order each round; {arm.pinning}",)
    return (
        f"paired rounds in random order, NOT pinned to cores ({arm.pinning}): where the "
        "kernel puts the client and the two backends can move one arm against the other; "
        "trust the intervals only as far as this runner's A/A runs do (make selftest-ab)",
    )


def pressure_note(head: ResultsFile) -> tuple[str, ...]:
    """How busy the machine was during an A/B (reported: both arms shared it, round by round)."""
    shares = sorted(b.cpu_pressure for b in head.benchmarks if b.cpu_pressure is not None)
    if not shares:
        return ()
    middle = shares[len(shares) // 2]
    return (
        f"CPU pressure during the paired rounds: median {middle:.0%}, worst {shares[-1]:.0%} "
        "(both arms shared it round by round, so it exempts nothing)",
    )


def origin(file: ResultsFile, *, root: Path | None = None) -> str:
    """Where a results file came from, for a report: path, commit and creation time."""
    meta = file.meta
    commit = meta.git_commit or ""
    short = commit[:12] + ("+dirty" if commit.endswith("+dirty") else "")
    details = [f"commit {short}" if commit else "", meta.created_at]
    shown = ", ".join(d for d in details if d)
    path = display_path(file.path, root) if root is not None else str(file.path)
    return f"{path} ({shown})" if shown else path
