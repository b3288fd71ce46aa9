"""The rules of the verdict on one benchmark: records in, findings out. Pure.

The rules run in order of trust:

0. result  — a read returns other rows than in the baseline while its SQL is the same
             (a changed SQL's changed result is a warning; ``pgperf.verdict.evidence``);
1. plan    — an expected index is missing or unused; an undeclared Seq Scan on a large
             relation; a Sort in a keyset query; catalog metadata that contradicts the
             database; the same for every sampled user's plan (deterministic);
2. work    — buffers plus temp blocks more than ``regression`` above the baseline; a node
             that spills to disk where the baseline's did not; a write path's WAL more
             than ``regression`` above the baseline's;
3. load    — a load scenario's failed requests, or a server that fell behind its rate;
4. budget  — p95 above the feature's budget (also without a baseline);
5. latency — against a stored baseline: the median more than ``regression`` slower,
             significant (one-sided Mann-Whitney U, p < ``significance``) and more than
             ``latency_floor_ms`` slower.

The pytest assertion of every benchmark and the gate (``pgperf compare``) call the same
:func:`judge`, so a benchmark fails in pytest exactly when the gate fails it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pgperf.stats import Alternative, mann_whitney_p, relative_change
from pgperf.verdict import evidence
from pgperf.verdict.findings import BenchmarkVerdict, Finding, Kind, Rule, Status, Thresholds
from pgperf.verdict.paired import PairedChange
from pgperf.verdict.record import BenchmarkRecord


def _ms(value: float) -> str:
    return f"{value:.3g} ms" if value < 100 else f"{value:.0f} ms"


def _pct(change: float) -> str:
    return f"{change:+.0%}"


# --------------------------------------------------------------------------- 1. plan


def plan_findings(current: BenchmarkRecord, baseline: BenchmarkRecord | None) -> list[Finding]:
    """Rule 1: expected indexes, large Seq Scans, keyset sorts, catalog contradictions."""
    findings = [
        Finding(Rule.PLAN, Kind.FAIL, f"expected index {name} does not exist in the database")
        for name in current.missing_indexes
    ]
    unused = [
        i
        for i in current.expected_indexes
        if i not in current.plan_indexes and i not in current.missing_indexes
    ]
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
    findings += _seq_scan_findings(current, baseline)
    if current.keyset and current.sorts:
        findings.append(
            Finding(
                Rule.PLAN,
                Kind.FAIL,
                f"keyset query has {current.sorts} Sort node(s): its index no longer serves "
                "the order",
            )
        )
    findings += [Finding(Rule.PLAN, Kind.FAIL, problem) for problem in current.catalog_problems]
    return findings


def _seq_scan_findings(current: BenchmarkRecord, baseline: BenchmarkRecord | None) -> list[Finding]:
    undeclared = [r for r in current.seq_scans if r not in current.seqscan_allowed]
    if not undeclared:
        return []
    if current.large_seq_scans is None:
        return _format1_seq_scans(undeclared, baseline)
    large = [r for r in undeclared if r in current.large_seq_scans]
    small = [r for r in undeclared if r not in large]
    findings = []
    for table in large:
        new = baseline is not None and table not in baseline.seq_scans
        findings.append(
            Finding(
                Rule.PLAN,
                Kind.FAIL,
                f"{'new ' if new else ''}Seq Scan on large table {table} is not declared "
                "acceptable (metadata 'seqscan')",
            )
        )
    if small:
        findings.append(
            Finding(Rule.PLAN, Kind.INFO, f"Seq Scan on small {', '.join(small)} (undeclared)")
        )
    return findings


def _format1_seq_scans(undeclared: list[str], baseline: BenchmarkRecord | None) -> list[Finding]:
    # A format 1 record does not say which relations are large: only a scan the baseline did
    # not have can be called a regression.
    if baseline is None:
        return [Finding(Rule.PLAN, Kind.INFO, f"Seq Scan on {', '.join(undeclared)} (undeclared)")]
    new_scans = [r for r in undeclared if r not in baseline.seq_scans]
    if not new_scans:
        return []
    return [Finding(Rule.PLAN, Kind.FAIL, f"new Seq Scan on {', '.join(new_scans)}")]


# --------------------------------------------------------------------------- 2. work


def _temp_counted(current: BenchmarkRecord, baseline: BenchmarkRecord) -> bool:
    # A file written before temp blocks were recorded compares shared buffers alone.
    return current.temp_blocks is not None and baseline.temp_blocks is not None


def work_findings(
    current: BenchmarkRecord, baseline: BenchmarkRecord | None, thresholds: Thresholds
) -> list[Finding]:
    """Rule 2: work against the baseline: buffers (shared hit + read), plus temp blocks."""
    if baseline is None or current.buffers is None or baseline.buffers is None:
        return []
    before, after = baseline.buffers, current.buffers
    text = f"buffers {before} → {after}"
    if _temp_counted(current, baseline) and (baseline.temp_blocks or current.temp_blocks):
        temp_before, temp_after = baseline.temp_blocks or 0, current.temp_blocks or 0
        text += f" + temp blocks {temp_before} → {temp_after}"
        before, after = before + temp_before, after + temp_after
    if after > before * (1 + thresholds.regression):
        change = relative_change(before, after)
        more = _pct(change) if change is not None else "from none"
        return [Finding(Rule.WORK, Kind.FAIL, f"{text} ({more}, more work)")]
    if after < before * (1 - thresholds.regression):
        return [Finding(Rule.WORK, Kind.IMPROVED, f"{text} ({_pct(after / before - 1)})")]
    return []


# --------------------------------------------------------------------------- 3. load


def load_findings(current: BenchmarkRecord) -> list[Finding]:
    """Rule 3: a load scenario's failed requests, a server behind its rate, failed jobs."""
    findings = []
    if current.errors:
        samples = "; ".join(current.error_samples[:3])
        findings.append(
            Finding(Rule.LOAD, Kind.FAIL, f"{current.errors} failed request(s): {samples}")
        )
    elif current.sustained is False:
        findings.append(
            Finding(
                Rule.LOAD,
                Kind.FAIL,
                f"fell behind: {current.throughput_rps or 0:.1f}/s achieved of "
                f"{current.offered_rps or 0:.1f}/s offered",
            )
        )
    findings += [Finding(Rule.LOAD, Kind.FAIL, problem) for problem in current.load_problems]
    return findings


# --------------------------------------------------------------------------- 4. budget


def budget_findings(current: BenchmarkRecord) -> list[Finding]:
    """Rule 4: p95 within the feature's budget (needs no baseline)."""
    if current.budget_ms is None or current.p95_ms <= current.budget_ms:
        return []
    costliest = current.costliest
    blame = (
        f"; costliest query: {current.feature}/{costliest[0]} (median {_ms(costliest[1])})"
        if costliest
        else ""
    )
    blame += f" (limit: {current.bottleneck})" if current.bottleneck else ""
    return [
        Finding(
            Rule.BUDGET,
            Kind.FAIL,
            f"p95 {_ms(current.p95_ms)} over the {_ms(current.budget_ms)} budget{blame}",
        )
    ]


# --------------------------------------------------------------------------- 5. latency


def latency_findings(
    current: BenchmarkRecord,
    baseline: BenchmarkRecord,
    thresholds: Thresholds,
    *,
    not_gating: str | None,
) -> tuple[list[Finding], float | None]:
    """Rule 5: a slower median that is large, significant and above the floor; and its p."""
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


def paired_findings(paired: PairedChange | None, thresholds: Thresholds) -> list[Finding]:
    """Rule 5 in a same-run A/B: the paired change of the median and its 95% interval.

    It fails when the change is above the threshold and the interval excludes no change;
    it is unstable when the interval reaches past the threshold without the change doing
    so (the data cannot tell a regression from none); every change is reported.
    """
    if paired is None:
        return [Finding(Rule.LATENCY, Kind.UNSTABLE, "too few paired rounds to judge latency")]
    limit, text = thresholds.regression, paired.described
    if paired.change > limit and paired.low > 0:
        return [Finding(Rule.LATENCY, Kind.FAIL, f"{text}: slower by more than {limit:.0%}")]
    if paired.high > limit:
        return [
            Finding(
                Rule.LATENCY,
                Kind.UNSTABLE,
                f"{text}: the interval reaches past +{limit:.0%}, too wide to decide",
            )
        ]
    if paired.change < -limit and paired.high < 0:
        return [Finding(Rule.LATENCY, Kind.IMPROVED, text)]
    return [Finding(Rule.LATENCY, Kind.INFO, text)]


def busy_machine(
    current: BenchmarkRecord, baseline: BenchmarkRecord, thresholds: Thresholds
) -> str | None:
    """Why this benchmark's timings compare a busy machine (CPU pressure), or None."""
    runs = (("current run", current.cpu_pressure), ("baseline", baseline.cpu_pressure))
    busy = [f"{p:.0%} in the {role}" for role, p in runs if (p or 0) > thresholds.busy_pressure]
    if not busy:
        return None
    return f"the machine was busy (CPU pressure {' and '.join(busy)})"


# --------------------------------------------------------------------------- one benchmark


def judge(
    current: BenchmarkRecord,
    baseline: BenchmarkRecord | None,
    thresholds: Thresholds,
    *,
    not_gating: str | None = None,
    is_new: bool = False,
    same_run: bool = False,
    paired: PairedChange | None = None,
) -> BenchmarkVerdict:
    """The verdict on one benchmark present in the results (``baseline`` None: no comparison).

    In a same-run A/B (``same_run``: ``baseline`` is the base arm's record, ``paired`` the
    change over the paired rounds) the latency rule is the paired one; against a stored
    baseline it is the cross-run one.
    """
    findings = evidence.result_findings(current, baseline)
    findings += plan_findings(current, baseline)
    findings += evidence.census_findings(current, baseline)
    findings += evidence.estimate_findings(current)
    findings += work_findings(current, baseline, thresholds)
    findings += evidence.spill_findings(current, baseline)
    findings += evidence.wal_findings(current, baseline, thresholds)
    findings += load_findings(current)
    findings += budget_findings(current)
    p_value = None
    if baseline is not None and same_run:
        findings += paired_findings(paired, thresholds)
    elif baseline is not None:
        latency, p_value = latency_findings(current, baseline, thresholds, not_gating=not_gating)
        findings += latency
    if is_new:
        findings.append(Finding(Rule.PRESENCE, Kind.INFO, "new: not in the baseline"))
    return BenchmarkVerdict(
        key=current.key,
        status=status_of(findings, is_new=is_new),
        findings=tuple(findings),
        current=current,
        baseline=baseline,
        change=paired.change
        if paired
        else relative_change(baseline.median_ms, current.median_ms)
        if baseline
        else None,
        p_value=p_value,
        paired=paired,
    )


def status_of(findings: Sequence[Finding], *, is_new: bool) -> Status:
    """A benchmark's status from its findings: any failure fails it."""
    kinds = {f.kind for f in findings}
    if Kind.FAIL in kinds:
        return Status.FAIL
    if Kind.UNSTABLE in kinds:
        return Status.UNSTABLE
    if Kind.WARNING in kinds:
        return Status.WARNING  # a changed result makes "improved" meaningless
    if is_new:
        return Status.NEW
    return Status.IMPROVED if Kind.IMPROVED in kinds else Status.PASS


def missing(baseline: BenchmarkRecord) -> BenchmarkVerdict:
    """The verdict on a benchmark the baseline has and the results lost."""
    return BenchmarkVerdict(
        key=baseline.key,
        status=Status.MISSING,
        findings=(Finding(Rule.PRESENCE, Kind.INFO, "missing: in the baseline, not measured"),),
        current=None,
        baseline=baseline,
    )
