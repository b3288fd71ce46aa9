"""pgperf.compare: the verdict on recorded results files, and its properties under Hypothesis."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgperf.compare import (
    Kind,
    Rule,
    Status,
    Thresholds,
    compare,
    judge,
    spread_by_feature,
    spread_by_key,
)
from pgperf.config import Config
from pgperf.results import (
    BenchmarkResult,
    MachineInfo,
    PostgresInfo,
    ResultsFile,
    RunMetadata,
    load_results,
)
from pgperf.stats import median, percentile

DATA = Path(__file__).parent / "data"


def _load(name: str) -> ResultsFile:
    return load_results(DATA / f"verdict_{name}.json")


# --------------------------------------------------------------------------- builders


def bench(
    samples: list[float],
    *,
    key: str = "dashboard/q|heavy|prepared",
    buffers: int | None = 100,
    budget_ms: float | None = None,
    plan_indexes: tuple[str, ...] = ("idx_a",),
    expected_indexes: tuple[str, ...] = ("idx_a",),
    seq_scans: tuple[str, ...] = (),
    seqscan_allowed: tuple[str, ...] = (),
) -> BenchmarkResult:
    """A benchmark as the reader would build it from a results file."""
    return BenchmarkResult(
        key=key,
        feature=key.split("/", 1)[0],
        name=key,
        samples_ms=tuple(samples),
        median_ms=median(samples),
        p95_ms=percentile(samples, 95),
        budget_ms=budget_ms,
        buffers=buffers,
        plan_indexes=plan_indexes,
        expected_indexes=expected_indexes,
        seq_scans=seq_scans,
        seqscan_allowed=seqscan_allowed,
    )


def results_file(
    *benchmarks: BenchmarkResult, fingerprint: str = "m1", major: int = 15
) -> ResultsFile:
    """A results file holding ``benchmarks``, measured on machine ``fingerprint``."""
    meta = RunMetadata(
        profile="ci",
        seed=42,
        postgres=PostgresInfo(version=f"{major}.1", major=major),
        machine=MachineInfo(
            fingerprint=fingerprint, cpu=f"cpu-{fingerprint}", cores=2, memory_gb=8
        ),
        backend="local",
    )
    return ResultsFile(path=Path(f"{fingerprint}.json"), meta=meta, benchmarks=benchmarks)


def scaled(result: BenchmarkResult, factor: float) -> BenchmarkResult:
    """The same benchmark with every sample multiplied by ``factor``."""
    samples = [s * factor for s in result.samples_ms]
    return replace(
        result, samples_ms=tuple(samples), median_ms=median(samples), p95_ms=percentile(samples, 95)
    )


# Realistic rounds: 5-40 samples within ±10% of a centre of 1.2 ms to 2 s.
@st.composite
def timings(draw: st.DrawFn) -> list[float]:
    centre = draw(st.floats(min_value=1.2, max_value=2000))
    noise = st.floats(min_value=0.9, max_value=1.1)
    return [centre * f for f in draw(st.lists(noise, min_size=5, max_size=40))]


# --------------------------------------------------------------------------- recorded files


def test_unchanged_rerun_passes() -> None:
    verdict = compare(_load("baseline"), _load("rerun"))
    assert not verdict.failed
    assert verdict.latency_gates
    assert {b.status for b in verdict.benchmarks} == {Status.PASS}
    assert verdict.headline.startswith("PASS: 16 benchmarks")


def test_injected_regressions_are_each_caught_by_their_rule() -> None:
    verdict = compare(_load("baseline"), _load("regressed"))
    rules = {b.key: b.rule for b in verdict.failures}
    assert rules == {
        "dashboard/task_counts_30d|heavy|prepared": Rule.PLAN,
        "playground/history_keyset|heavy|prepared": Rule.WORK,
        "agents/search_name|median|prepared": Rule.LATENCY,
    }
    plan = next(b for b in verdict.failures if b.rule is Rule.PLAN)
    assert "no longer uses expected index idx_tasks_user_status_created" in plan.reason
    assert "new Seq Scan on tasks" in plan.reason
    assert verdict.headline == "FAIL: 3 of 16 benchmarks regressed (plan 1, work 1, latency 1)"


def test_improvement_new_and_missing_are_listed_not_failed() -> None:
    verdict = compare(_load("baseline"), _load("regressed"))
    assert [b.key for b in verdict.improvements] == ["analytics/top_users_month|median|prepared"]
    assert [b.key for b in verdict.new] == ["agents/filter_configuration|median|prepared"]
    assert [b.key for b in verdict.missing] == ["agents/own_agents|heavy|prepared"]
    assert verdict.new[0].status is Status.NEW
    assert not verdict.missing[0].failed


def test_feature_summary() -> None:
    verdict = compare(_load("baseline"), _load("regressed"))
    features = {f.feature: f for f in verdict.features}
    assert [f.feature for f in verdict.features] == sorted(features)
    assert features["dashboard"].status is Status.FAIL
    assert features["dashboard"].failures == 1
    assert features["analytics"].status is Status.IMPROVED
    assert features["reports"].status is Status.PASS
    assert features["dashboard"].budget_ms == 50
    worst = max(b.current.p95_ms for b in verdict.benchmarks if b.current and b.feature == "agents")
    assert features["agents"].p95_ms == worst


def test_other_machine_reports_latency_as_information_and_says_why() -> None:
    verdict = compare(_load("baseline"), _load("other_machine"))
    assert not verdict.failed
    assert not verdict.latency_gates
    assert verdict.latency_note is not None
    assert "another machine" in verdict.latency_note
    assert "Apple M2" in verdict.latency_note
    infos = [f for b in verdict.benchmarks for f in b.findings if f.rule is Rule.LATENCY]
    assert infos
    assert {f.kind for f in infos} == {Kind.INFO}
    assert "latency information only" in verdict.headline


def test_results_only_verdict_gates_the_budget() -> None:
    verdict = compare(None, _load("over_budget"))
    assert not verdict.has_baseline
    assert [(b.key, b.rule) for b in verdict.failures] == [
        ("dashboard/screen|heavy|page", Rule.BUDGET)
    ]
    assert "over the 50 ms budget" in verdict.failures[0].reason
    assert verdict.new == ()  # without a baseline nothing is "new"


def test_results_only_verdict_passes_healthy_results() -> None:
    verdict = compare(None, _load("rerun"))
    assert not verdict.failed
    assert "no baseline" in verdict.headline


def test_run_notes_show_changed_hashes_and_settings() -> None:
    base = _load("baseline")
    meta = replace(
        base.meta,
        hashes={**base.meta.hashes, "indexes": "changed"},
        postgres=replace(base.meta.postgres, settings={"jit": "on"}),
    )
    verdict = compare(base, replace(base, meta=meta))
    assert any("indexes" in note for note in verdict.notes)
    assert any("jit off → on" in note for note in verdict.notes)


# --------------------------------------------------------------------------- single rules


def test_expected_index_missing_fails_even_without_a_baseline() -> None:
    verdict = judge(bench([5.0] * 10, plan_indexes=()), None, Thresholds())
    assert verdict.rule is Rule.PLAN
    assert "does not use expected index idx_a" in verdict.reason


def test_seq_scan_already_in_the_baseline_or_allowed_does_not_fail() -> None:
    base = bench([5.0] * 10, seq_scans=("users",))
    cur = bench([5.0] * 10, seq_scans=("users", "subscription_tiers"))
    assert judge(cur, base, Thresholds()).rule is Rule.PLAN  # subscription_tiers is new
    allowed = replace(cur, seqscan_allowed=("subscription_tiers",))
    assert not judge(allowed, base, Thresholds()).failed


def test_slowdown_below_the_floor_never_fails() -> None:
    base = bench([0.20 + i * 0.001 for i in range(30)])
    verdict = judge(scaled(base, 2.0), base, Thresholds())  # +100%, but only +0.2 ms
    assert not verdict.failed
    assert verdict.findings == ()


def test_slowdown_with_too_few_rounds_is_reported_not_significant() -> None:
    base = bench([10.0, 10.5, 11.0])
    verdict = judge(scaled(base, 1.5), base, Thresholds())
    assert not verdict.failed
    assert "not significant" in verdict.reason


def test_thresholds_come_from_the_config() -> None:
    config = Config(regression_threshold=0.5, latency_floor_ms=2.0, significance=0.05)
    assert Thresholds.from_config(config) == Thresholds(0.5, 2.0, 0.05)
    base = bench([10.0 + i * 0.01 for i in range(20)])
    assert not judge(scaled(base, 1.4), base, Thresholds.from_config(config)).failed
    assert judge(scaled(base, 1.4), base, Thresholds()).rule is Rule.LATENCY


def test_other_postgres_major_does_not_gate_latency() -> None:
    base = bench([10.0 + i * 0.01 for i in range(20)])
    verdict = compare(results_file(base), results_file(scaled(base, 3.0), major=17))
    assert not verdict.failed
    assert verdict.latency_note is not None
    assert "PostgreSQL major (15 → 17)" in verdict.latency_note


# --------------------------------------------------------------------------- properties


@given(timings(), st.integers(min_value=0, max_value=10**7))
def test_identical_inputs_never_fail(samples: list[float], buffers: int) -> None:
    run = results_file(bench(samples, buffers=buffers, budget_ms=max(samples)))
    verdict = compare(run, run)
    assert not verdict.failed
    assert verdict.improvements == ()


@settings(max_examples=200)
@given(timings())
def test_every_sample_times_one_and_a_half_always_fails_on_latency(samples: list[float]) -> None:
    base = bench(samples)
    verdict = compare(results_file(base), results_file(scaled(base, 1.5)))
    assert verdict.failed
    assert verdict.benchmarks[0].rule is Rule.LATENCY


@given(timings(), st.floats(min_value=1.0, max_value=100))
def test_another_machine_never_fails_on_latency_alone(samples: list[float], factor: float) -> None:
    base = bench(samples)
    verdict = compare(results_file(base), results_file(scaled(base, factor), fingerprint="m2"))
    assert not verdict.failed


@given(st.integers(min_value=1, max_value=10**7))
def test_buffers_plus_21_percent_fails_plus_19_passes(buffers: int) -> None:
    base = bench([5.0] * 10, buffers=buffers)
    more = judge(replace(base, buffers=math.ceil(buffers * 1.21)), base, Thresholds())
    less = judge(replace(base, buffers=math.floor(buffers * 1.19)), base, Thresholds())
    assert more.rule is Rule.WORK
    assert not less.failed


@given(timings(), st.sampled_from(["index", "seqscan"]))
def test_plan_regression_is_reported_as_plan_even_if_slower_and_heavier(
    samples: list[float], how: str
) -> None:
    base = bench(samples, budget_ms=max(samples))
    worse = scaled(replace(base, buffers=1000), 3.0)
    if how == "index":
        worse = replace(worse, plan_indexes=())
    else:
        worse = replace(worse, seq_scans=("tasks",))
    verdict = judge(worse, base, Thresholds())
    assert verdict.rule is Rule.PLAN
    assert [f.rule for f in verdict.findings if f.kind is Kind.FAIL] == [
        Rule.PLAN,
        Rule.WORK,
        Rule.BUDGET,
        Rule.LATENCY,
    ]


@given(timings())
def test_work_is_reported_before_budget_and_latency(samples: list[float]) -> None:
    base = bench(samples, budget_ms=max(samples))
    verdict = judge(scaled(replace(base, buffers=1000), 3.0), base, Thresholds())
    assert verdict.rule is Rule.WORK


@given(timings())
def test_budget_is_reported_before_latency(samples: list[float]) -> None:
    base = bench(samples, budget_ms=max(samples))
    verdict = judge(scaled(base, 3.0), base, Thresholds())
    assert verdict.rule is Rule.BUDGET


@pytest.mark.parametrize("factor", [0.5, 0.6])
def test_a_significant_speed_up_is_an_improvement(factor: float) -> None:
    base = bench([10.0 + i * 0.01 for i in range(20)])
    verdict = judge(scaled(base, factor), base, Thresholds())
    assert verdict.status is Status.IMPROVED
    assert verdict.findings[0].kind is Kind.IMPROVED


def test_run_to_run_spread_of_medians() -> None:
    runs = [_load("baseline"), _load("rerun")]
    by_key = spread_by_key(runs)
    assert len(by_key) == 16
    key = "dashboard/task_counts_30d|heavy|prepared"
    medians = [run.by_key()[key].median_ms for run in runs]
    assert by_key[key] == pytest.approx(max(medians) / min(medians))
    by_feature = spread_by_feature(runs)
    assert set(by_feature) == {"dashboard", "playground", "agents", "analytics", "reports"}
    dashboard = [v for k, v in by_key.items() if k.startswith("dashboard/")]
    assert by_feature["dashboard"] == max(dashboard)


def test_spread_only_counts_benchmarks_of_every_run() -> None:
    runs = [_load("baseline"), _load("regressed")]
    assert "agents/own_agents|heavy|prepared" not in spread_by_key(runs)
    assert spread_by_key([]) == {}


def test_a_run_wide_drift_is_noted() -> None:
    base = _load("baseline")
    slower = replace(base, benchmarks=tuple(scaled(b, 1.15) for b in base.benchmarks))
    verdict = compare(base, slower)
    assert any("moved by +15% on average" in note for note in verdict.notes)
    assert not any("on average" in note for note in compare(base, _load("rerun")).notes)
