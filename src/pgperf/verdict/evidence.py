"""The rules on deterministic evidence beyond shared buffers: results, users' plans, spills,
WAL and row estimates. Pure; ``pgperf.verdict.rules.judge`` calls them in order of trust.

* result — what a read returns against the baseline: changed with the same SQL fails (an
  index, setting or data change must never change it), changed with its SQL is a warning;
* plan   — every sampled user's plan shape uses the expected indexes and no undeclared Seq
  Scan on a large table; a shape the baseline did not have is shown; estimates off by more
  than 10x are information;
* work   — a node that spills to disk where the baseline's did not; a write path's WAL more
  than the threshold above the baseline's, naming the indexes it now maintains.
"""

from __future__ import annotations

from collections.abc import Mapping

from pgperf.stats import relative_change
from pgperf.verdict.findings import Finding, Kind, Rule, Thresholds
from pgperf.verdict.plans import SPILL_SEPARATOR, PlanShape, spilled_node
from pgperf.verdict.record import PAGE, BenchmarkRecord, ResultDigest

#: At most this many misestimated nodes are named in one finding (the report lists all).
_SHOWN = 3


def _pct(change: float | None) -> str:
    return f"{change:+.0%}" if change is not None else "from none"


# --------------------------------------------------------------------------- result


def _what_changed(before: ResultDigest, after: ResultDigest) -> str:
    if before.rows != after.rows:
        return f"{before.rows} → {after.rows} rows"
    if before.unordered == after.unordered:
        return f"the same {after.rows} rows in another order"
    return f"{after.rows} rows as before, other values"


def result_findings(current: BenchmarkRecord, baseline: BenchmarkRecord | None) -> list[Finding]:
    """A read's result against the baseline's: same SQL must return the same rows."""
    if baseline is None or current.results is None or baseline.results is None:
        return []
    findings = []
    key = current.key
    for name, after in current.results.items():
        before = baseline.results.get(name)
        if before is None or before.same_as(after):
            continue
        change = _what_changed(before, after)
        if key.variant == PAGE:  # "dashboard page · heavy: recent_tasks 20 → 5 rows"
            what = f"{key.feature} page · {key.persona}: {name} {change}"
        else:  # "recent_tasks · heavy: 20 → 5 rows"
            what = f"{key.query} · {key.persona}: {change}"
        if before.sql == after.sql:
            findings.append(
                Finding(
                    Rule.RESULT,
                    Kind.FAIL,
                    f"result changed while its SQL did not: {what} (an index, a setting or "
                    "a data change must never change what a query returns)",
                )
            )
        else:
            findings.append(Finding(Rule.RESULT, Kind.WARNING, what))
    return findings


# --------------------------------------------------------------------------- plan: users


def _summary(shape: PlanShape) -> str:
    uses = f"uses {', '.join(shape.indexes)}" if shape.indexes else "uses no index"
    scans = f", Seq Scan on {', '.join(shape.seq_scans)}" if shape.seq_scans else ""
    return uses + scans


def _shape_failures(
    current: BenchmarkRecord, shape: PlanShape, who: str, *, reported: set[str]
) -> list[Finding]:
    unused = [
        i
        for i in shape.expected
        if i not in shape.indexes and i not in current.missing_indexes and i not in reported
    ]
    large = [
        r for r in shape.large_seq_scans if r not in current.seqscan_allowed and r not in reported
    ]
    findings = []
    if unused:
        findings.append(
            Finding(
                Rule.PLAN,
                Kind.FAIL,
                f"the plan for {who} does not use expected index {', '.join(unused)} "
                f"({_summary(shape)})",
            )
        )
    if large:
        findings.append(
            Finding(
                Rule.PLAN,
                Kind.FAIL,
                f"the plan for {who} has an undeclared Seq Scan on large table "
                f"{', '.join(large)} (metadata 'seqscan')",
            )
        )
    return findings


def census_findings(current: BenchmarkRecord, baseline: BenchmarkRecord | None) -> list[Finding]:
    """Every sampled user's plan shape: expected indexes, no undeclared large Seq Scan."""
    shapes = current.user_plans
    if not shapes:
        return []
    sampled = sum(s.users for s in shapes)
    # What the persona's own plan already fails for is said once, by the plan rule.
    reported = {i for i in current.expected_indexes if i not in current.plan_indexes}
    reported |= {r for r in current.seq_scans if r in (current.large_seq_scans or ())}
    known = {s.shape for s in baseline.user_plans} if baseline and baseline.user_plans else None
    findings = []
    for shape in shapes:
        who = f"user {shape.user_ids[0]} ({shape.users} of {sampled} sampled users)"
        findings += _shape_failures(current, shape, who, reported=reported)
        if known is not None and shape.shape not in known:
            findings.append(
                Finding(Rule.PLAN, Kind.INFO, f"new plan shape for {who}: {_summary(shape)}")
            )
    return findings


def estimate_findings(current: BenchmarkRecord) -> list[Finding]:
    """Plan nodes whose actual rows are off from the estimate by more than 10x (information)."""
    off = current.misestimates
    if not off:
        return []
    more = f" and {len(off) - _SHOWN} more" if len(off) > _SHOWN else ""
    return [
        Finding(
            Rule.PLAN,
            Kind.INFO,
            f"row estimate off by more than 10x at {len(off)} node(s): "
            f"{'; '.join(off[:_SHOWN])}{more}",
        )
    ]


# --------------------------------------------------------------------------- work: spills


def spill_findings(current: BenchmarkRecord, baseline: BenchmarkRecord | None) -> list[Finding]:
    """A node that spills to disk (external sort, hash in batches) where the baseline's did not."""
    if not current.spills:
        return []
    if baseline is None or baseline.spills is None:
        return [Finding(Rule.WORK, Kind.INFO, f"spills to disk: {'; '.join(current.spills)}")]
    before = {spilled_node(entry) for entry in baseline.spills}
    findings = []
    for entry in current.spills:
        node, _, how = entry.partition(SPILL_SEPARATOR)
        if node in before:
            findings.append(Finding(Rule.WORK, Kind.INFO, f"still spills to disk: {entry}"))
        else:
            findings.append(
                Finding(
                    Rule.WORK,
                    Kind.FAIL,
                    f"{node} now spills to disk ({how}); it did not in the baseline",
                )
            )
    return findings


# --------------------------------------------------------------------------- work: WAL


def _added_indexes(
    current: Mapping[str, tuple[str, ...]] | None, baseline: Mapping[str, tuple[str, ...]] | None
) -> dict[str, list[str]]:
    if current is None or baseline is None:
        return {}
    added = {t: [i for i in names if i not in baseline.get(t, ())] for t, names in current.items()}
    return {t: names for t, names in added.items() if names}


def _maintains(current: BenchmarkRecord, baseline: BenchmarkRecord) -> str:
    if current.write_indexes is None or baseline.write_indexes is None:
        return ""
    added = _added_indexes(current.write_indexes, baseline.write_indexes)
    if not added:
        return "; the written tables have no index the baseline's lacked"
    count = sum(len(v) for v in added.values())
    listed = "; ".join(f"{t}: {', '.join(names)}" for t, names in sorted(added.items()))
    return f"; the write now maintains {count} more index(es): {listed}"


def wal_findings(
    current: BenchmarkRecord, baseline: BenchmarkRecord | None, thresholds: Thresholds
) -> list[Finding]:
    """A write path's WAL bytes against the baseline's, with the indexes it now maintains."""
    if baseline is None or current.wal_bytes is None or baseline.wal_bytes is None:
        return []
    before, after = baseline.wal_bytes, current.wal_bytes
    text = f"WAL {before:,} → {after:,} bytes"
    if baseline.wal_records is not None and current.wal_records is not None:
        text += f", {baseline.wal_records} → {current.wal_records} records"
    if after > before * (1 + thresholds.regression):
        more = _pct(relative_change(before, after))
        return [
            Finding(
                Rule.WORK,
                Kind.FAIL,
                f"{text} ({more}, more WAL per write path){_maintains(current, baseline)}",
            )
        ]
    if after < before * (1 - thresholds.regression):
        return [Finding(Rule.WORK, Kind.IMPROVED, f"{text} ({_pct(after / before - 1)})")]
    return []
