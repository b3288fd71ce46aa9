"""The verdict (pgperf.verdict.rules and .verdict): recorded results files, single rules, and
the properties of the gate under Hypothesis."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgperf.config import Config
from pgperf.host import MachineInfo
from pgperf.stats import median, percentile
from pgperf.verdict.findings import Finding, Kind, Rule, Status, Thresholds
from pgperf.verdict.record import (
    BenchmarkKey,
    BenchmarkRecord,
    PostgresInfo,
    ResultsFile,
    RunMetadata,
)
from pgperf.verdict.results import load_results
from pgperf.verdict.rules import budget_findings, judge, load_findings, plan_findings
from pgperf.verdict.selftest import spread_by_feature, spread_by_key
from pgperf.verdict.verdict import compare

DATA = Path(__file__).parent / "data"


def _load(name: str) -> ResultsFile:
    return load_results(DATA / f"verdict_{name}.json")


def K(text: str) -> BenchmarkKey:
    """A benchmark key from its text form."""
    return BenchmarkKey.parse(text)


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
) -> BenchmarkRecord:
    """A benchmark as the reader would build it from a (format 1) results file."""
    return BenchmarkRecord(
        key=K(key),
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
    *benchmarks: BenchmarkRecord, fingerprint: str = "m1", major: int = 15
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


def scaled(result: BenchmarkRecord, factor: float) -> BenchmarkRecord:
    """The same benchmark with every sample multiplied by ``factor``."""
    samples = [s * factor for s in result.samples_ms]
    return replace(
        result, samples_ms=tuple(samples), median_ms=median(samples), p95_ms=percentile(samples, 95)
    )


def recorded(samples: list[float] | None = None, **changes: object) -> BenchmarkRecord:
    """A format 2 record: the database said which relations are large and counted the sorts."""
    base = bench(samples or [5.0] * 10)
    facts: dict[str, object] = {"large_seq_scans": (), "sorts": 0, **changes}
    return replace(base, **facts)  # type: ignore[arg-type]


def load_run(**changes: object) -> BenchmarkRecord:
    """A load scenario's record that kept its rate without errors (variant ``load``)."""
    samples = [20.0 + i * 0.1 for i in range(40)]
    record = BenchmarkRecord(
        key=K("dashboard/checkout|population|load"),
        name="test_load[checkout]",
        samples_ms=tuple(samples),
        median_ms=median(samples),
        p95_ms=percentile(samples, 95),
        budget_ms=200.0,
        errors=0,
        sustained=True,
        offered_rps=50.0,
        throughput_rps=49.9,
    )
    return replace(record, **changes)  # type: ignore[arg-type]


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
        K("dashboard/task_counts_30d|heavy|prepared"): Rule.PLAN,
        K("playground/history_keyset|heavy|prepared"): Rule.WORK,
        K("agents/search_name|median|prepared"): Rule.LATENCY,
    }
    plan = next(b for b in verdict.failures if b.rule is Rule.PLAN)
    assert "no longer uses expected index idx_tasks_user_status_created" in plan.reason
    assert "new Seq Scan on tasks" in plan.reason
    assert verdict.headline == "FAIL: 3 of 16 benchmarks regressed (plan 1, work 1, latency 1)"


def test_improvement_new_and_missing_are_listed_not_failed() -> None:
    verdict = compare(_load("baseline"), _load("regressed"))
    assert [str(b.key) for b in verdict.improvements] == [
        "analytics/top_users_month|median|prepared"
    ]
    assert [str(b.key) for b in verdict.new] == ["agents/filter_configuration|median|prepared"]
    assert [str(b.key) for b in verdict.missing] == ["agents/own_agents|heavy|prepared"]
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
        (K("dashboard/screen|heavy|page"), Rule.BUDGET)
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
    key = K("dashboard/task_counts_30d|heavy|prepared")
    medians = [run.by_key()[key].median_ms for run in runs]
    assert by_key[key] == pytest.approx(max(medians) / min(medians))
    by_feature = spread_by_feature(runs)
    assert set(by_feature) == {"dashboard", "playground", "agents", "analytics", "reports"}
    dashboard = [v for k, v in by_key.items() if k.feature == "dashboard"]
    assert by_feature["dashboard"] == max(dashboard)


def test_spread_only_counts_benchmarks_of_every_run() -> None:
    runs = [_load("baseline"), _load("regressed")]
    assert K("agents/own_agents|heavy|prepared") not in spread_by_key(runs)
    assert spread_by_key([]) == {}


def test_a_run_wide_drift_is_noted() -> None:
    base = _load("baseline")
    slower = replace(base, benchmarks=tuple(scaled(b, 1.15) for b in base.benchmarks))
    verdict = compare(base, slower)
    assert any("moved by +15% on average" in note for note in verdict.notes)
    assert not any("on average" in note for note in compare(base, _load("rerun")).notes)


# --------------------------------------------------------------------------- plan rule, format 2

LARGE_SCAN = "Seq Scan on large table tasks is not declared acceptable (metadata 'seqscan')"


def test_undeclared_seq_scan_on_a_large_table_fails_without_a_baseline() -> None:
    verdict = judge(recorded(seq_scans=("tasks",), large_seq_scans=("tasks",)), None, Thresholds())
    assert verdict.status is Status.FAIL
    assert verdict.rule is Rule.PLAN
    assert verdict.failures == (LARGE_SCAN,)


def test_large_seq_scan_the_baseline_already_had_still_fails_but_is_not_new() -> None:
    cur = recorded(seq_scans=("tasks",), large_seq_scans=("tasks",))
    verdict = judge(cur, replace(cur), Thresholds())
    assert verdict.rule is Rule.PLAN
    assert verdict.failures == (LARGE_SCAN,)


def test_large_seq_scan_the_baseline_lacked_is_called_new() -> None:
    cur = recorded(seq_scans=("tasks",), large_seq_scans=("tasks",))
    verdict = judge(cur, recorded(), Thresholds())
    assert verdict.rule is Rule.PLAN
    assert verdict.failures == (f"new {LARGE_SCAN}",)


def test_seq_scan_on_a_small_relation_is_information_only() -> None:
    cur = recorded(seq_scans=("subscription_tiers",), large_seq_scans=())
    expected = (Finding(Rule.PLAN, Kind.INFO, "Seq Scan on small subscription_tiers (undeclared)"),)
    for baseline in (None, recorded()):  # new against the baseline, and still only information
        verdict = judge(cur, baseline, Thresholds())
        assert verdict.status is Status.PASS
        assert verdict.findings == expected


def test_large_and_small_seq_scans_of_one_plan_are_told_apart() -> None:
    cur = recorded(seq_scans=("tasks", "users", "tiers"), large_seq_scans=("tasks",))
    findings = plan_findings(cur, None)
    assert findings == [
        Finding(Rule.PLAN, Kind.FAIL, LARGE_SCAN),
        Finding(Rule.PLAN, Kind.INFO, "Seq Scan on small users, tiers (undeclared)"),
    ]


def test_declared_large_seq_scan_passes() -> None:
    cur = recorded(seq_scans=("tasks",), large_seq_scans=("tasks",), seqscan_allowed=("tasks",))
    verdict = judge(cur, recorded(), Thresholds())
    assert verdict.status is Status.PASS
    assert verdict.findings == ()


@given(
    st.sets(st.sampled_from(["tasks", "users", "agents", "tiers", "events"])),
    st.sets(st.sampled_from(["tasks", "users", "agents", "tiers", "events"])),
    st.sets(st.sampled_from(["tasks", "users", "agents", "tiers", "events"])),
)
def test_format2_plan_fails_exactly_on_undeclared_large_seq_scans(
    scanned: set[str], large: set[str], allowed: set[str]
) -> None:
    cur = recorded(
        seq_scans=tuple(sorted(scanned)),
        large_seq_scans=tuple(sorted(scanned & large)),
        seqscan_allowed=tuple(sorted(allowed)),
    )
    verdict = judge(cur, None, Thresholds())
    assert verdict.failed == bool((scanned - allowed) & large)
    failing = [m for m in verdict.failures if "Seq Scan" in m]
    assert len(failing) == len((scanned - allowed) & large)


def test_keyset_query_with_a_sort_fails() -> None:
    verdict = judge(recorded(keyset=True, sorts=2), None, Thresholds())
    assert verdict.rule is Rule.PLAN
    assert verdict.failures == (
        "keyset query has 2 Sort node(s): its index no longer serves the order",
    )


@pytest.mark.parametrize(
    ("keyset", "sorts"), [(True, 0), (True, None), (False, 3)], ids=["no-sort", "unknown", "offset"]
)
def test_sorts_fail_only_a_keyset_query(keyset: bool, sorts: int | None) -> None:
    assert not judge(recorded(keyset=keyset, sorts=sorts), None, Thresholds()).failed


def test_expected_index_missing_from_the_database_fails_once() -> None:
    cur = recorded(expected_indexes=("idx_a",), plan_indexes=(), missing_indexes=("idx_a",))
    verdict = judge(cur, None, Thresholds())
    assert verdict.rule is Rule.PLAN
    # Said once, as missing: not also as an index the plan does not use.
    assert verdict.failures == ("expected index idx_a does not exist in the database",)


def test_an_unused_index_beside_a_missing_one_is_named_too() -> None:
    cur = recorded(expected_indexes=("idx_a", "idx_b"), plan_indexes=(), missing_indexes=("idx_a",))
    assert judge(cur, None, Thresholds()).failures == (
        "expected index idx_a does not exist in the database",
        "plan does not use expected index idx_b (uses no index)",
    )


def test_catalog_problems_fail() -> None:
    problems = (
        "query q is marked partial but its index idx_a is not partial",
        "query q names idx_z in expected_indexes, which has alternatives",
    )
    verdict = judge(recorded(catalog_problems=problems), None, Thresholds())
    assert verdict.rule is Rule.PLAN
    assert verdict.failures == problems


def test_format1_record_keeps_the_old_seq_scan_rule() -> None:
    cur = bench([5.0] * 10, seq_scans=("tasks",))
    assert cur.large_seq_scans is None
    alone = judge(cur, None, Thresholds())
    assert alone.status is Status.PASS
    assert alone.findings == (Finding(Rule.PLAN, Kind.INFO, "Seq Scan on tasks (undeclared)"),)
    assert judge(cur, bench([5.0] * 10, seq_scans=("tasks",)), Thresholds()).findings == ()
    new = judge(cur, bench([5.0] * 10), Thresholds())
    assert new.rule is Rule.PLAN
    assert new.failures == ("new Seq Scan on tasks",)


def test_recorded_format1_files_say_no_relation_size() -> None:
    assert all(b.large_seq_scans is None for b in _load("regressed").benchmarks)


# --------------------------------------------------------------------------- budget rule


def _page(**changes: object) -> BenchmarkRecord:
    page = bench([60.0] * 10, key="dashboard/page|heavy|page", budget_ms=50.0)
    return replace(page, **changes)  # type: ignore[arg-type]


def test_budget_names_the_costliest_statement_of_a_page() -> None:
    page = _page(per_query_ms={"task_counts_30d": 12.5, "recent_tasks": 41.5, "badge": 0.3})
    assert [f.message for f in budget_findings(page)] == [
        "p95 60 ms over the 50 ms budget; costliest query: dashboard/recent_tasks (median 41.5 ms)"
    ]
    verdict = judge(page, None, Thresholds())
    assert verdict.rule is Rule.BUDGET


def test_budget_without_per_query_timings_names_no_statement() -> None:
    assert [f.message for f in budget_findings(_page())] == ["p95 60 ms over the 50 ms budget"]


def test_within_budget_says_nothing_even_with_per_query_timings() -> None:
    page = _page(budget_ms=60.0, per_query_ms={"recent_tasks": 41.5})
    assert budget_findings(page) == []
    assert not judge(page, None, Thresholds()).failed


# --------------------------------------------------------------------------- load rule


def test_a_load_run_that_kept_up_passes() -> None:
    run = load_run()
    assert load_findings(run) == []
    verdict = judge(run, None, Thresholds())
    assert verdict.status is Status.PASS
    assert verdict.findings == ()


def test_failed_requests_fail_with_three_samples() -> None:
    run = load_run(errors=7, error_samples=("timeout", "deadlock", "too many clients", "other"))
    verdict = judge(run, None, Thresholds())
    assert verdict.rule is Rule.LOAD
    assert verdict.failures == ("7 failed request(s): timeout; deadlock; too many clients",)


def test_a_server_that_fell_behind_fails() -> None:
    verdict = judge(load_run(sustained=False, throughput_rps=31.4), None, Thresholds())
    assert verdict.rule is Rule.LOAD
    assert verdict.failures == ("fell behind: 31.4/s achieved of 50.0/s offered",)


def test_failed_background_jobs_fail() -> None:
    problems = (
        "background refresh_stats failed: canceling statement",
        "background vacuum_tasks never completed a run",
    )
    verdict = judge(load_run(load_problems=problems), None, Thresholds())
    assert verdict.rule is Rule.LOAD
    assert verdict.failures == problems


def test_load_is_reported_after_work_and_before_budget() -> None:
    base = load_run(buffers=100)
    worse = scaled(load_run(buffers=1000, errors=1, error_samples=("boom",)), 20.0)
    verdict = judge(worse, base, Thresholds())
    assert verdict.rule is Rule.WORK
    assert [f.rule for f in verdict.findings if f.kind is Kind.FAIL] == [
        Rule.WORK,
        Rule.LOAD,
        Rule.BUDGET,
        Rule.LATENCY,
    ]


def test_a_query_record_has_no_load_findings() -> None:
    assert load_findings(bench([5.0] * 10)) == []


def _as_format2(file: ResultsFile, key: str, **facts: object) -> ResultsFile:
    """``file`` with one benchmark re-recorded with the facts format 2 adds."""
    changes: dict[str, object] = {"large_seq_scans": (), "sorts": 0, **facts}
    benchmarks = tuple(
        replace(b, **changes) if b.key == K(key) else b  # type: ignore[arg-type]
        for b in file.benchmarks
    )
    assert benchmarks != file.benchmarks
    return replace(file, benchmarks=benchmarks)


def test_format2_results_against_a_format1_baseline_use_the_new_rule() -> None:
    key = "dashboard/task_counts_30d|heavy|prepared"
    large = _as_format2(_load("regressed"), key, large_seq_scans=("tasks",))
    verdict = compare(_load("baseline"), large)
    bench = next(b for b in verdict.benchmarks if b.key == K(key))
    assert bench.rule is Rule.PLAN
    assert f"new {LARGE_SCAN}" in bench.failures
    small = _as_format2(_load("regressed"), key, large_seq_scans=())
    bench = next(b for b in compare(_load("baseline"), small).benchmarks if b.key == K(key))
    assert not any("Seq Scan" in m for m in bench.failures)  # a small table's scan is no failure
    assert "Seq Scan on small tasks (undeclared)" in [f.message for f in bench.findings]
    assert bench.failed  # the lost index still fails it
