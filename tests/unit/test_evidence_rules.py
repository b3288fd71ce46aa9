"""The rules on evidence beyond shared buffers (pgperf.verdict.evidence), on results files
recorded on the ci profile: a baseline, an unchanged rerun, and one injected run per rule.

They are the suite's own results files (pytest-benchmark JSON), trimmed to 30 samples per
benchmark and, for an injected run, to the features its injection touches:

* ``evidence_limit5``: dashboard/recent_tasks with ``LIMIT 5`` instead of 20 (its SQL
  changed): a faster query that returns less;
* ``evidence_spill``: the reports and analytics with ``--what-if-setting work_mem=64kB``;
* ``evidence_wal``: the playground with four more indexes on tasks (two btree, two GIN)
  through ``--what-if-sql``;
* ``evidence_data``: the dashboard after three of the heavy user's tasks took 1 ms longer;
* ``evidence_census``: the dashboard with a competing partial index that serves the users
  of an id range the personas are not in.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pgperf.verdict.findings import Kind, Rule, Status, Thresholds
from pgperf.verdict.record import BenchmarkKey, BenchmarkRecord, ResultsFile
from pgperf.verdict.results import load_results
from pgperf.verdict.rules import judge
from pgperf.verdict.verdict import compare

DATA = Path(__file__).parent / "data"


def _load(name: str) -> ResultsFile:
    return load_results(DATA / f"evidence_{name}.json")


@pytest.fixture(scope="module")
def baseline() -> ResultsFile:
    """The recorded baseline (every benchmark of the ci run)."""
    return _load("baseline")


def _bench(results: ResultsFile, key: str) -> BenchmarkRecord:
    return results.by_key()[BenchmarkKey.parse(key)]


# --------------------------------------------------------------------------- A/A


def test_an_unchanged_rerun_raises_no_evidence_finding(baseline: ResultsFile) -> None:
    verdict = compare(baseline, _load("rerun"), Thresholds())
    for bench in verdict.benchmarks:
        assert bench.status is not Status.WARNING, bench.reason
        for finding in bench.findings:
            assert finding.rule is not Rule.RESULT, finding
            assert finding.kind is not Kind.FAIL or finding.rule is Rule.LATENCY, finding
            assert not finding.message.startswith(("new plan shape", "WAL ", "still spills"))
    assert not verdict.warnings


def test_the_rerun_recorded_every_kind_of_evidence(baseline: ResultsFile) -> None:
    rerun = _load("rerun")
    reads = [b for b in rerun.benchmarks if b.key.variant != "write"]
    assert all(b.results for b in reads)
    assert all(b.temp_blocks is not None and b.spills is not None for b in rerun.benchmarks)
    writes = [b for b in rerun.benchmarks if b.key.variant == "write"]
    assert writes
    assert all(b.wal_bytes and b.wal_records for b in writes)
    assert _bench(rerun, "playground/write_path|median|write").write_indexes
    census = [b for b in rerun.benchmarks if b.user_plans]
    assert {b.key.persona for b in census} == {"median"}
    assert all(sum(s.users for s in b.user_plans or ()) == 50 for b in census)


# --------------------------------------------------------------------------- result


def test_a_faster_query_that_returns_less_is_a_warning_not_an_improvement(
    baseline: ResultsFile,
) -> None:
    verdict = compare(baseline, _load("limit5"), Thresholds())
    recent = {b.key: b for b in verdict.benchmarks if b.key.query == "recent_tasks"}
    assert recent
    for bench in recent.values():
        assert bench.status is Status.WARNING, bench.reason
        assert not bench.failed
    assert "recent_tasks · heavy: 20 → 5 rows" in verdict.warnings
    assert "dashboard page · heavy: recent_tasks 20 → 5 rows" in verdict.warnings
    assert "result(s) changed" in verdict.headline
    assert "improved" not in verdict.headline


def test_a_changed_result_with_the_same_sql_fails_the_result_rule(baseline: ResultsFile) -> None:
    verdict = compare(baseline, _load("data"), Thresholds())
    failed = {b.key: b for b in verdict.failures if b.rule is Rule.RESULT}
    assert BenchmarkKey.parse("dashboard/recent_tasks|heavy|prepared") in failed
    assert all(key.persona == "heavy" for key in failed), sorted(map(str, failed))
    reason = failed[BenchmarkKey.parse("dashboard/recent_tasks|heavy|prepared")].reason
    assert reason.startswith("result changed while its SQL did not: recent_tasks · heavy: ")
    assert "20 rows as before, other values" in reason


def test_a_result_in_another_order_is_told_apart() -> None:
    before = _load("baseline")
    record = _bench(before, "dashboard/recent_tasks|heavy|prepared")
    assert record.results is not None
    (name, digest) = next(iter(record.results.items()))
    shuffled = replace(digest, checksum="0" * 16)
    after = replace(record, results={name: shuffled})
    (finding,) = [f for f in judge(after, record, Thresholds()).findings if f.rule is Rule.RESULT]
    assert finding.kind is Kind.FAIL
    assert "the same 20 rows in another order" in finding.message


def test_a_baseline_without_results_judges_no_result() -> None:
    record = _bench(_load("baseline"), "dashboard/recent_tasks|median|prepared")
    old = replace(record, results=None)
    assert not [f for f in judge(record, old, Thresholds()).findings if f.rule is Rule.RESULT]


# --------------------------------------------------------------------------- spills


def test_work_mem_64kb_fails_the_work_rule_naming_the_spilling_node(baseline: ResultsFile) -> None:
    verdict = compare(baseline, _load("spill"), Thresholds())
    report = next(
        b
        for b in verdict.benchmarks
        if str(b.key) == "reports/monthly_by_tier_provider|any|prepared"
    )
    assert report.rule is Rule.WORK, report.reason
    spills = [m for m in report.failures if "now spills to disk" in m]
    assert (
        "Hash for (t.user_id = u.id) now spills to disk (8 batches); it did not in the baseline"
        in spills
    )
    assert any(m.startswith("HashAggregate by ") for m in spills), spills
    assert any(m.startswith("Sort by ") and "(external merge" in m for m in spills), spills
    # A page names the statement the spilling node belongs to.
    page = next(b for b in verdict.benchmarks if str(b.key) == "reports/page|heavy|page")
    assert any(m.startswith("monthly_by_tier_provider: Hash for ") for m in page.failures)
    # The queries that fit in 64 kB are not blamed.
    calm = next(
        b for b in verdict.benchmarks if str(b.key) == "reports/revenue_by_month|any|prepared"
    )
    assert not [f for f in calm.findings if "spills" in f.message]


def test_temp_blocks_count_as_work_when_both_runs_recorded_them(baseline: ResultsFile) -> None:
    spill = _load("spill")
    record = _bench(spill, "reports/monthly_by_tier_provider|any|prepared")
    before = baseline.by_key()[record.key]
    work = [f for f in judge(record, before, Thresholds()).findings if f.rule is Rule.WORK]
    assert any("+ temp blocks 0 → " in f.message for f in work), work
    # A baseline written before temp blocks were recorded compares shared buffers alone.
    old = replace(before, temp_blocks=None, spills=None)
    work_old = [f for f in judge(record, old, Thresholds()).findings if f.rule is Rule.WORK]
    assert not any("temp blocks" in f.message for f in work_old)
    assert not any(f.kind is Kind.FAIL and "spills" in f.message for f in work_old)


# --------------------------------------------------------------------------- WAL


def test_four_more_indexes_on_tasks_fail_the_write_path_by_its_wal(baseline: ResultsFile) -> None:
    verdict = compare(baseline, _load("wal"), Thresholds())
    writes = [b for b in verdict.benchmarks if b.key.qualified == "playground/write_path"]
    assert writes
    for bench in writes:
        assert bench.failed, bench.reason
        assert bench.rule is Rule.WORK, bench.reason
        (message,) = [m for m in bench.failures if m.startswith("WAL ")]
        assert "more WAL per write path" in message
        assert "the write now maintains 4 more index(es): tasks: " in message
        for index in (
            "whatif_tasks_latency",
            "whatif_tasks_tokens",
            "whatif_tasks_request_gin",
            "whatif_tasks_response_gin",
        ):
            assert index in message


def test_less_wal_is_an_improvement_and_an_old_baseline_is_not_judged_on_wal(
    baseline: ResultsFile,
) -> None:
    heavy = _bench(_load("wal"), "playground/write_path|heavy|write")
    before = _bench(baseline, "playground/write_path|heavy|write")
    reverse = [
        f for f in judge(before, heavy, Thresholds()).findings if f.message.startswith("WAL")
    ]
    assert [f.kind for f in reverse] == [Kind.IMPROVED]
    old = replace(before, wal_bytes=None, wal_records=None, write_indexes=None)
    assert not [f for f in judge(heavy, old, Thresholds()).findings if "WAL" in f.message]


# --------------------------------------------------------------------------- census


def test_a_shape_without_the_expected_index_fails_naming_a_user(baseline: ResultsFile) -> None:
    verdict = compare(baseline, _load("census"), Thresholds())
    caught = [
        b for b in verdict.failures if any(m.startswith("the plan for user ") for m in b.failures)
    ]
    assert caught, verdict.headline
    for bench in caught:
        assert bench.key.persona == "median"
        assert bench.key.variant == "prepared"
        assert bench.rule is Rule.PLAN, bench.reason
        message = next(m for m in bench.failures if m.startswith("the plan for user "))
        assert "sampled users) does not use expected index idx_tasks_user_created" in message
        assert "whatif_tasks_some_users" in message
        assert bench.current is not None
        # The personas' own plans still use the index: only the census sees it.
        assert "idx_tasks_user_created" in bench.current.plan_indexes
    news = [
        f.message
        for b in verdict.benchmarks
        for f in b.findings
        if f.message.startswith("new plan shape for user ")
    ]
    assert news


def test_estimates_off_tenfold_are_information_only(baseline: ResultsFile) -> None:
    off = [b for b in baseline.benchmarks if b.misestimates]
    for record in off:
        findings = judge(record, record, Thresholds()).findings
        estimates = [f for f in findings if "row estimate off" in f.message]
        assert [f.kind for f in estimates] == [Kind.INFO]
