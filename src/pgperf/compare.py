"""The regression verdict: results (and a baseline) in, verdicts out. Pure: no database, no pytest.

Per benchmark, matched by key, the rules run in order of trust (DESIGN.md, "The verdict"):

1. plan    — an expected index is not used, or a Seq Scan the baseline did not have appears on
             a relation the metadata does not allow;
2. work    — buffers more than ``regression`` above the baseline;
3. budget  — p95 above the feature's budget (also without a baseline);
4. latency — the median more than ``regression`` slower, significant (one-sided Mann-Whitney U
             on the samples, p < ``significance``) and more than ``latency_floor_ms`` slower.

A baseline from another machine, PostgreSQL major or backend turns rule 4 into information;
so does a benchmark measured while the machine was busy (CPU pressure above
``busy_pressure`` in either run: other work queued for the cores, which moves timings by far
more than a code change, and the rounds of one run share that, so the test across rounds
cannot tell it apart). Rules 1-3 still gate. The dataclasses below are the stable interface
of every report (terminal, markdown, html).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from pgperf.results import BenchmarkResult, ResultsFile, RunMetadata
from pgperf.stats import Alternative, geometric_mean, mann_whitney_p, relative_change, spread

if TYPE_CHECKING:
    from pgperf.config import Config


class Rule(Enum):
    """The verdict's rules, in order of trust (the order they are checked and reported)."""

    PLAN = "plan"
    WORK = "work"
    BUDGET = "budget"
    LATENCY = "latency"
    PRESENCE = "presence"  # new in the results or gone from them: listed, never gating


class Kind(Enum):
    """What a finding means for the gate."""

    FAIL = "fail"
    IMPROVED = "improved"
    INFO = "info"


class Status(Enum):
    """A benchmark's (or a feature's) overall outcome."""

    PASS = "pass"
    FAIL = "fail"
    IMPROVED = "improved"
    NEW = "new"  # in the results, not in the baseline
    MISSING = "missing"  # in the baseline, not in the results


@dataclass(frozen=True)
class Thresholds:
    """How much change the gate tolerates."""

    regression: float = 0.20
    latency_floor_ms: float = 0.5
    significance: float = 0.01
    # Share of a benchmark's time some task waited for a CPU above which its latency is
    # information only. Alone on the machine the suite stays near 0 (client and server
    # backend take turns); A/A runs beside other work measured 40-65% and medians moving 2x.
    busy_pressure: float = 0.10

    @classmethod
    def from_config(cls, config: Config) -> Thresholds:
        """The thresholds a resolved Config asks for."""
        return cls(
            regression=config.regression_threshold,
            latency_floor_ms=config.latency_floor_ms,
            significance=config.significance,
        )


@dataclass(frozen=True)
class Finding:
    """One observation about a benchmark: which rule, whether it fails, and why (one line)."""

    rule: Rule
    kind: Kind
    message: str


@dataclass(frozen=True)
class BenchmarkVerdict:
    """The verdict on one benchmark; ``findings`` are in rule order, failures decide ``status``."""

    key: str
    feature: str
    label: str
    status: Status
    findings: tuple[Finding, ...]
    current: BenchmarkResult | None
    baseline: BenchmarkResult | None
    change: float | None = None  # relative change of the median (0.25 is 25% slower)
    p_value: float | None = None  # one-sided Mann-Whitney p of the latency change, when tested

    @property
    def failed(self) -> bool:
        """Whether this benchmark fails the gate."""
        return self.status is Status.FAIL

    @property
    def rule(self) -> Rule | None:
        """The first failing rule in order of trust (None when nothing fails)."""
        return next((f.rule for f in self.findings if f.kind is Kind.FAIL), None)

    @property
    def reason(self) -> str:
        """One line: the failures, else the improvements, else the information; '' if none."""
        for kind in (Kind.FAIL, Kind.IMPROVED, Kind.INFO):
            messages = [f.message for f in self.findings if f.kind is kind]
            if messages:
                return "; ".join(messages)
        return ""

    @property
    def baseline_ms(self) -> float | None:
        """The baseline's median in ms."""
        return self.baseline.median_ms if self.baseline else None

    @property
    def current_ms(self) -> float | None:
        """The current median in ms."""
        return self.current.median_ms if self.current else None


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
            rules = _count_rules(self.failures)
            return f"FAIL: {len(self.failures)} of {measured} benchmarks regressed ({rules})"
        against = (
            "against the baseline" if self.has_baseline else "(no baseline: budgets and plans only)"
        )
        extra = f", {len(self.improvements)} improved" if self.improvements else ""
        info = "; latency information only (see note)" if self.latency_note else ""
        return f"PASS: {measured} benchmarks, no regression {against}{extra}{info}"


def _count_rules(failures: Iterable[BenchmarkVerdict]) -> str:
    counts: dict[Rule, int] = {}
    for bench in failures:
        if bench.rule is not None:
            counts[bench.rule] = counts.get(bench.rule, 0) + 1
    return ", ".join(f"{rule.value} {counts[rule]}" for rule in Rule if rule in counts)


# --------------------------------------------------------------------------- the rules


def _ms(value: float) -> str:
    return f"{value:.3g} ms" if value < 100 else f"{value:.0f} ms"


def _pct(change: float) -> str:
    return f"{change:+.0%}"


def plan_findings(current: BenchmarkResult, baseline: BenchmarkResult | None) -> list[Finding]:
    """Rule 1: expected indexes unused (always), new undeclared Seq Scans (against a baseline)."""
    findings = []
    unused = [i for i in current.expected_indexes if i not in current.plan_indexes]
    if unused:
        uses = ", ".join(current.plan_indexes) or "no index"
        had = baseline is not None and any(i in baseline.plan_indexes for i in unused)
        findings.append(
            Finding(
                Rule.PLAN,
                Kind.FAIL,
                f"plan {'no longer uses' if had else 'does not use'} expected index "
                f"{', '.join(unused)} (uses {uses})",
            )
        )
    undeclared = [r for r in current.seq_scans if r not in current.seqscan_allowed]
    if baseline is None:
        # Without a baseline nothing says the scan is new; small tables are scanned legitimately.
        if undeclared:
            findings.append(
                Finding(Rule.PLAN, Kind.INFO, f"Seq Scan on {', '.join(undeclared)} (undeclared)")
            )
        return findings
    new_scans = [r for r in undeclared if r not in baseline.seq_scans]
    if new_scans:
        findings.append(Finding(Rule.PLAN, Kind.FAIL, f"new Seq Scan on {', '.join(new_scans)}"))
    return findings


def work_findings(
    current: BenchmarkResult, baseline: BenchmarkResult | None, thresholds: Thresholds
) -> list[Finding]:
    """Rule 2: buffers (shared hit + read) against the baseline."""
    if baseline is None or current.buffers is None or baseline.buffers is None:
        return []
    before, after = baseline.buffers, current.buffers
    text = f"buffers {before} → {after}"
    if after > before * (1 + thresholds.regression):
        change = relative_change(before, after)
        more = _pct(change) if change is not None else "from none"
        return [Finding(Rule.WORK, Kind.FAIL, f"{text} ({more}, more work)")]
    if after < before * (1 - thresholds.regression):
        return [Finding(Rule.WORK, Kind.IMPROVED, f"{text} ({_pct(after / before - 1)})")]
    return []


def budget_findings(current: BenchmarkResult) -> list[Finding]:
    """Rule 3: p95 within the feature's budget (needs no baseline)."""
    if current.budget_ms is None or current.p95_ms <= current.budget_ms:
        return []
    return [
        Finding(
            Rule.BUDGET,
            Kind.FAIL,
            f"p95 {_ms(current.p95_ms)} over the {_ms(current.budget_ms)} budget",
        )
    ]


def latency_findings(
    current: BenchmarkResult,
    baseline: BenchmarkResult,
    thresholds: Thresholds,
    *,
    not_gating: str | None,
) -> tuple[list[Finding], float | None]:
    """Rule 4: a slower median that is large, significant and above the floor; and its p."""
    before, after = baseline.median_ms, current.median_ms
    slower = after > before * (1 + thresholds.regression)
    faster = after < before * (1 - thresholds.regression)
    if not (slower or faster) or abs(after - before) <= thresholds.latency_floor_ms:
        return [], None
    alternative: Alternative = "greater" if slower else "less"
    p_value = mann_whitney_p(current.samples_ms, baseline.samples_ms, alternative=alternative)
    change = relative_change(before, after)
    text = f"median {_ms(before)} → {_ms(after)} ({_pct(change or 0)}, p={p_value:.2g})"
    if p_value >= thresholds.significance:
        return [Finding(Rule.LATENCY, Kind.INFO, f"{text}: not significant")], p_value
    busy = busy_machine(current, baseline, thresholds)
    if not_gating is not None or busy is not None:
        why = f", {busy}" if busy else ""
        return [Finding(Rule.LATENCY, Kind.INFO, f"{text}: information only{why}")], p_value
    kind = Kind.FAIL if slower else Kind.IMPROVED
    return [Finding(Rule.LATENCY, kind, text)], p_value


def busy_machine(
    current: BenchmarkResult, baseline: BenchmarkResult, thresholds: Thresholds
) -> str | None:
    """Why this benchmark's timings compare a busy machine (CPU pressure), or None."""
    runs = (("current run", current.cpu_pressure), ("baseline", baseline.cpu_pressure))
    busy = [f"{p:.0%} in the {role}" for role, p in runs if (p or 0) > thresholds.busy_pressure]
    if not busy:
        return None
    return f"the machine was busy (CPU pressure {' and '.join(busy)})"


def judge(
    current: BenchmarkResult,
    baseline: BenchmarkResult | None,
    thresholds: Thresholds,
    *,
    not_gating: str | None = None,
    is_new: bool = False,
) -> BenchmarkVerdict:
    """The verdict on one benchmark present in the results (``baseline`` None: budget/plan only)."""
    findings = plan_findings(current, baseline)
    findings += work_findings(current, baseline, thresholds)
    findings += budget_findings(current)
    p_value = None
    if baseline is not None:
        latency, p_value = latency_findings(current, baseline, thresholds, not_gating=not_gating)
        findings += latency
    if is_new:
        findings.append(Finding(Rule.PRESENCE, Kind.INFO, "new: not in the baseline"))
    return BenchmarkVerdict(
        key=current.key,
        feature=current.feature,
        label=current.label,
        status=_status(findings, is_new=is_new),
        findings=tuple(findings),
        current=current,
        baseline=baseline,
        change=relative_change(baseline.median_ms, current.median_ms) if baseline else None,
        p_value=p_value,
    )


def _status(findings: Sequence[Finding], *, is_new: bool) -> Status:
    kinds = {f.kind for f in findings}
    if Kind.FAIL in kinds:
        return Status.FAIL
    if is_new:
        return Status.NEW
    return Status.IMPROVED if Kind.IMPROVED in kinds else Status.PASS


def _missing(baseline: BenchmarkResult) -> BenchmarkVerdict:
    return BenchmarkVerdict(
        key=baseline.key,
        feature=baseline.feature,
        label=baseline.label,
        status=Status.MISSING,
        findings=(Finding(Rule.PRESENCE, Kind.INFO, "missing: in the baseline, not measured"),),
        current=None,
        baseline=baseline,
    )


# --------------------------------------------------------------------------- whole files


def latency_not_gating(baseline: RunMetadata, results: RunMetadata) -> str | None:
    """Why latency against this baseline is information only, or None when it gates."""
    reasons = []
    if baseline.machine.fingerprint != results.machine.fingerprint:
        reasons.append(
            f"another machine ({_machine(baseline)} → {_machine(results)})"
            if _machine(baseline) != _machine(results)
            else "another machine (fingerprint differs)"
        )
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
        "not failure; plan, work and budget still gate"
    )


def _machine(meta: RunMetadata) -> str:
    m = meta.machine
    return f"{m.cpu or '?'}, {m.cores} cores, {m.memory_gb} GB"


def _what_if_text(what_if: Mapping[str, object]) -> str:
    # Mirrors pgperf.whatif.WhatIf.as_metadata; kept here so this module imports no psycopg.
    parts = []
    dropped = what_if.get("drop_indexes")
    if isinstance(dropped, list) and dropped:
        parts.append(f"dropped index {', '.join(map(str, dropped))}")
    settings = what_if.get("settings")
    if isinstance(settings, dict) and settings:
        parts.append("settings " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    return "; ".join(parts) or "no change"


def run_notes(baseline: RunMetadata, results: RunMetadata) -> tuple[str, ...]:
    """What changed between the two runs besides the code: what-ifs, content hashes, settings."""
    notes = [
        f"the {role} is a what-if run ({_what_if_text(meta.what_if)}): its plan and work "
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
            f"changed since the baseline: {', '.join(changed)} (content hashes differ); "
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
        notes.append(f"server settings differ from the baseline: {shown}{more}")
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
        improved = any(b.status is Status.IMPROVED for b in members)
        summaries.append(
            FeatureSummary(
                feature=feature,
                status=Status.FAIL if failures else Status.IMPROVED if improved else Status.PASS,
                p95_ms=max((c.p95_ms for c in measured), default=None),
                budget_ms=min(budgets, default=None),
                change=geometric_mean(ratios) - 1 if ratios else None,
                benchmarks=len(members),
                failures=failures,
            )
        )
    return tuple(summaries)


def spread_by_key(runs: Sequence[ResultsFile]) -> dict[str, float]:
    """Run-to-run spread (max/min of the medians) of each benchmark measured in every run."""
    if not runs:
        return {}
    common = set.intersection(*({b.key for b in run.benchmarks} for run in runs))
    medians: dict[str, list[float]] = {key: [] for key in common}
    for run in runs:
        for bench in run.benchmarks:
            if bench.key in medians:
                medians[bench.key].append(bench.median_ms)
    return {key: spread(values) for key, values in sorted(medians.items())}


def spread_by_feature(runs: Sequence[ResultsFile]) -> dict[str, float]:
    """The worst run-to-run spread of medians among each feature's benchmarks."""
    features = {b.key: b.feature for run in runs for b in run.benchmarks}
    worst: dict[str, float] = {}
    for key, value in spread_by_key(runs).items():
        worst[features[key]] = max(value, worst.get(features[key], 1.0))
    return dict(sorted(worst.items()))


def compare(
    baseline: ResultsFile | None, results: ResultsFile, thresholds: Thresholds | None = None
) -> Verdict:
    """The verdict on ``results`` against ``baseline`` (None: a results-only, budget/plan verdict).

    The caller checks first that both come from the same data (results.check_comparable).
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
    verdicts += [_missing(b) for key, b in base.items() if key not in measured]
    verdicts.sort(key=lambda v: (v.feature, v.key))
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
        baseline_origin=origin(baseline) if baseline else None,
        results_origin=origin(results),
    )


def origin(file: ResultsFile) -> str:
    """Where a results file came from, for a report: path, commit and creation time."""
    meta = file.meta
    commit = meta.git_commit or ""
    short = commit[:12] + ("+dirty" if commit.endswith("+dirty") else "")
    details = [f"commit {short}" if commit else "", meta.created_at]
    shown = ", ".join(d for d in details if d)
    return f"{file.path} ({shown})" if shown else str(file.path)
