"""The same-run A/B's statistic and latency rule, on synthetic paired rounds (no database)."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from pgperf.host import MachineInfo
from pgperf.verdict.findings import Kind, Rule, Status, Thresholds
from pgperf.verdict.paired import PairedChange, paired_change
from pgperf.verdict.record import (
    AbArm,
    BenchmarkKey,
    BenchmarkRecord,
    PostgresInfo,
    ResultsFile,
    RunMetadata,
)
from pgperf.verdict.rules import judge, paired_findings
from pgperf.verdict.verdict import compare_paired

KEY = "dashboard/recent_tasks|median|prepared"


def rounds(n: int, *, slowdown: float = 1.0, seed: int = 1) -> tuple[list[float], list[float]]:
    """Paired rounds: a machine whose speed drifts by 2x, the same drift on both arms."""
    rng = random.Random(seed)
    base, head = [], []
    for i in range(n):
        machine = 1 + (i % 50) / 50  # the load of the moment: up to 2x slower
        base.append(0.2 * machine * rng.lognormvariate(0, 0.01))
        head.append(0.2 * slowdown * machine * rng.lognormvariate(0, 0.01))
    return base, head


def test_a_slowdown_is_measured_with_an_interval_around_it() -> None:
    change = paired_change(*rounds(300, slowdown=1.3), key=KEY)
    assert change is not None
    assert change.change == pytest.approx(0.30, abs=0.01)
    assert change.low < 0.30 < change.high
    assert change.low > 0.2
    assert change.pairs == 300


def test_pairing_cancels_what_the_machine_did_during_each_pair() -> None:
    # The two arms' medians each move by the drift; every pair's ratio does not.
    change = paired_change(*rounds(300), key=KEY)
    assert change is not None
    assert abs(change.change) < 0.005
    assert change.half_width < 0.005  # the drift (up to 2x) does not widen the interval


def test_the_same_rounds_always_give_the_same_interval() -> None:
    base, head = rounds(200, slowdown=1.05)
    first, again = paired_change(base, head, key=KEY), paired_change(base, head, key=KEY)
    assert first == again


def test_too_few_pairs_give_no_change_and_unequal_arms_are_refused() -> None:
    assert paired_change([1.0, 1.1], [1.0, 1.2], key=KEY) is None
    with pytest.raises(ValueError, match="3 base rounds but 2 head rounds"):
        paired_change([1.0, 1.0, 1.0], [1.0, 1.0], key=KEY)


def _change(change: float, low: float, high: float) -> PairedChange:
    return PairedChange(change, low, high, pairs=300, base_ms=1.0, head_ms=1.0 + change)


@pytest.mark.parametrize(
    ("change", "low", "high", "kind"),
    [
        (0.50, 0.40, 0.60, Kind.FAIL),  # slower by more than 20%, surely
        (0.21, 0.01, 0.41, Kind.FAIL),  # above the threshold, and surely slower
        (0.25, -0.05, 0.55, Kind.UNSTABLE),  # above the threshold, but maybe no change
        (0.15, 0.05, 0.25, Kind.UNSTABLE),  # under it, but it may be over
        (0.10, 0.07, 0.13, Kind.INFO),  # a 10% change, surely under the threshold
        (-0.30, -0.35, -0.25, Kind.IMPROVED),
        (-0.30, -0.60, 0.05, Kind.INFO),  # maybe faster, surely not slower
    ],
)
def test_the_paired_latency_rule(change: float, low: float, high: float, kind: Kind) -> None:
    (finding,) = paired_findings(_change(change, low, high), Thresholds())
    assert finding.rule is Rule.LATENCY
    assert finding.kind is kind
    assert f"[{low:+.1%}, {high:+.1%}]" in finding.message  # every change with its interval


def test_no_paired_rounds_is_unstable_never_a_silent_pass() -> None:
    (finding,) = paired_findings(None, Thresholds())
    assert finding.kind is Kind.UNSTABLE


def _record(key: str, samples: list[float], **fields: object) -> BenchmarkRecord:
    return BenchmarkRecord(
        key=BenchmarkKey.parse(key),
        name=f"ab::{key}",
        samples_ms=tuple(samples),
        median_ms=sorted(samples)[len(samples) // 2],
        p95_ms=max(samples),
        budget_ms=50.0,
        buffers=10,
        plan_indexes=("idx_tasks_user_created",),
        expected_indexes=("idx_tasks_user_created",),
        large_seq_scans=(),
        cpu_pressure=0.3,
        **fields,
    )


def _arm(arm: str, records: list[BenchmarkRecord], *, pinned: bool = True) -> ResultsFile:
    ab = AbArm(
        "base" if arm == "base" else "head",
        "main",
        "a" * 40,
        "b" * 40,
        pinned=pinned,
        pinning="client on CPU 0, both backends on CPU 1" if pinned else "cannot move them",
    )
    meta = RunMetadata(
        profile="ci",
        seed=42,
        postgres=PostgresInfo("15.18", 15),
        machine=MachineInfo("f", "cpu", 2, 24),
        ab=ab,
    )
    return ResultsFile(Path(f"ab-{arm}.json"), meta, tuple(records))


def test_the_a_b_verdict_is_marked_and_judges_latency_on_the_pairs() -> None:
    base, head = rounds(300)
    slow_base, slow_head = rounds(300, slowdown=1.5, seed=2)
    verdict = compare_paired(
        _arm("base", [_record(KEY, base), _record("dashboard/page|median|page", slow_base)]),
        _arm("head", [_record(KEY, head), _record("dashboard/page|median|page", slow_head)]),
    )
    assert verdict.against == "same-run A/B against main (aaaaaaaaaaaa)"
    assert verdict.latency_gates
    assert "both backends on CPU 1" in verdict.notes[0]
    # CPU pressure is reported, and exempts nothing: both arms shared it.
    assert any("CPU pressure during the paired rounds: median 30%" in n for n in verdict.notes)
    statuses = {str(b.key): b.status for b in verdict.benchmarks}
    assert statuses == {KEY: Status.PASS, "dashboard/page|median|page": Status.FAIL}
    failed = verdict.failures[0]
    assert failed.rule is Rule.LATENCY
    assert failed.paired is not None
    assert failed.paired.change == pytest.approx(0.5, abs=0.02)
    assert verdict.headline.startswith("FAIL: 1 of 2 benchmarks regressed (latency 1)")


def test_a_b_new_and_missing_benchmarks_and_an_unpinned_run() -> None:
    base, head = rounds(50)
    verdict = compare_paired(
        _arm("base", [_record(KEY, base), _record("agents/gone|any|prepared", base)]),
        _arm("head", [_record(KEY, head), _record("agents/new|any|prepared", head)], pinned=False),
    )
    statuses = {str(b.key): b.status for b in verdict.benchmarks}
    assert statuses["agents/new|any|prepared"] is Status.NEW
    assert statuses["agents/gone|any|prepared"] is Status.MISSING
    assert statuses[KEY] is Status.PASS
    assert "NOT pinned to cores (cannot move them)" in verdict.notes[0]


def test_plan_and_work_rules_run_between_the_arms() -> None:
    base, head = rounds(100)
    more_work = _record(KEY, head)
    more_work = replace(more_work, buffers=100, plan_indexes=(), seq_scans=("tasks",))
    more_work = replace(more_work, large_seq_scans=("tasks",))
    verdict = judge(
        more_work,
        _record(KEY, base),
        Thresholds(),
        same_run=True,
        paired=paired_change(base, head, key=KEY),
    )
    assert verdict.rule is Rule.PLAN
    assert {f.rule for f in verdict.findings if f.kind is Kind.FAIL} == {Rule.PLAN, Rule.WORK}
