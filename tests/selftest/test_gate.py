"""The gate's self-test: record a baseline, then prove the gate passes A/A and fails injections.

Each scenario runs the perf suite in a subprocess (pgperf.verdict.selftest) against this session's
server through the dsn backend, so every run clones the templates this session already has:
(a) an unchanged rerun passes; (b) dropping a load-bearing index fails exactly the benchmarks
whose plan used it; (c) forcing one feature off its indexes fails every benchmark of it by
the plan rule; (d) one run with four injections, each on benchmarks of its own, is caught by
the evidence rules: a data change by the result rule, a partial index that serves some users
by the plan rule's census, work_mem=64kB by the work rule's spills, four more indexes on tasks
by the work rule's WAL. Injections are what-if runs (pgperf.whatif), applied to the run's
clone only.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from pgperf.config import Config
from pgperf.data.templates import Template
from pgperf.provision import ServerHandle
from pgperf.verdict.findings import Rule, Status, Thresholds
from pgperf.verdict.record import ResultsFile, WhatIf
from pgperf.verdict.selftest import Suite, SuiteRun, judge, tree_changes
from pgperf.verdict.verdict import Verdict

pytestmark = [pytest.mark.selftest, pytest.mark.integration]

# Two features: the one the injections hit, and one they must leave alone (agents reads no
# tasks), so "fails exactly the affected benchmarks" is tested against bystanders too.
SELECTION = ("tests/perf/test_dashboard.py", "tests/perf/test_agents.py")
# Load-bearing: dashboard/recent_tasks, task_status_counts, credits_this_month and the page
# use it (idx_tasks_user_status_created is only the generic-plan fallback of a partial index,
# and no measured plan uses it: dropping it changes nothing).
DROPPED_INDEX = "idx_tasks_user_created"
FLIPPED_FEATURE = "dashboard"
# enable_indexscan=off alone lets the planner keep the same index through a Bitmap Index
# Scan (plan_indexes unchanged); with all three off the only path left is a Seq Scan.
PLAN_FLIP = WhatIf(
    settings=(
        ("enable_indexscan", "off"),
        ("enable_indexonlyscan", "off"),
        ("enable_bitmapscan", "off"),
    )
)
# The evidence rules need a report that sorts and hashes (it spills at work_mem=64kB) and a
# write path; the baseline, the rerun and the evidence run measure them too.
SPILLER = "tests/perf/test_reports.py::TestReports::test_query[monthly_by_tier_provider-any]"
WRITER = "tests/perf/test_playground.py::TestPlayground::test_write_path"
EVIDENCE_SELECTION = (*SELECTION, SPILLER, WRITER)
# Four injections, each on benchmarks of its own:
# * the heavy user's three latest finished tasks took 1 ms longer: the heavy user's reads of
#   them return other values with the same SQL (result rule; no other benchmark reads it);
# * a partial index as good as idx_tasks_user_created for the users above the personas' ids:
#   those users' plans use it instead, the personas' plans do not (census, plan rule);
# * work_mem=64kB: the monthly report's hash join, hash aggregate and sort spill (work rule);
# * two btree and two GIN indexes more on tasks: the playground write path inserts and
#   updates a task, so it writes more WAL (work rule).
HEAVY_TASKS = (
    "UPDATE tasks SET latency_ms = latency_ms + 1 WHERE id IN (SELECT id FROM tasks "
    "WHERE user_id = (SELECT user_id FROM pgperf.personas WHERE persona = 'heavy') "
    "AND latency_ms IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 3)"
)
SOME_USERS_INDEX = "whatif_tasks_some_users"
SOME_USERS = (
    "DO $$ BEGIN EXECUTE format('CREATE INDEX " + SOME_USERS_INDEX + " ON tasks "
    "(user_id, created_at DESC, id DESC) INCLUDE (status, credits_used) WHERE user_id > %s', "
    "(SELECT max(user_id) FROM pgperf.personas)); END $$"
)
MORE_INDEXES = {
    "whatif_tasks_latency": "(latency_ms)",
    "whatif_tasks_tokens": "(input_tokens, output_tokens)",
    "whatif_tasks_request_gin": "USING gin (request_payload)",
    "whatif_tasks_response_gin": "USING gin (response_metadata jsonb_path_ops)",
}
EVIDENCE = WhatIf(
    settings=(("work_mem", "64kB"),),
    statements=(
        HEAVY_TASKS,
        SOME_USERS,
        *(f"CREATE INDEX {name} ON tasks {how}" for name, how in MORE_INDEXES.items()),
    ),
)


@pytest.fixture(scope="module")
def suite(pg_server: ServerHandle, bench_template: Template, pgperf_config: Config) -> Suite:
    """The suite's runs for this test, on this session's server and templates."""
    # bench_template: this session found or built the templates, so each run only clones them.
    assert bench_template.name
    return Suite(
        conninfo=pg_server.conninfo,
        profile=pgperf_config.profile,
        seed=pgperf_config.seed,
        project_root=pgperf_config.project_root,
        selection=SELECTION,
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this module's results files go."""
    return tmp_path_factory.mktemp("selftest")


@pytest.fixture(scope="module")
def baseline(suite: Suite, workdir: Path) -> ResultsFile:
    """The recorded baseline: one unchanged run of the selection and the evidence's extras."""
    run = replace(suite, selection=EVIDENCE_SELECTION).run(workdir / "baseline.json")
    assert run.returncode == 0, f"the baseline run failed:\n{run.tail}"
    return run.load()


@pytest.fixture(scope="module")
def thresholds(pgperf_config: Config) -> Thresholds:
    """The thresholds the gate uses in this session."""
    return Thresholds.from_config(pgperf_config)


def cli_compare(baseline: ResultsFile, results: ResultsFile) -> subprocess.CompletedProcess[str]:
    """`pgperf compare BASELINE RESULTS`, as a reviewer or CI runs it."""
    return subprocess.run(
        [sys.executable, "-m", "pgperf", "compare", str(baseline.path), str(results.path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def judged(baseline: ResultsFile, run: SuiteRun, thresholds: Thresholds) -> Verdict:
    """The gate's verdict on a run, once sure it measured the baseline's tree."""
    results = run.load()
    changed = tree_changes(baseline, results)
    # Someone saved a file mid-test: the run measured other data or queries, not an injection.
    assert not changed, f"the tree changed during the self-test ({', '.join(changed)}): rerun"
    return judge(baseline, results, thresholds)


def describe(verdict: Verdict) -> str:
    """The failures of a verdict, one per line, then its notes (assertion message, -s output)."""
    lines = [f"{b.key}: {b.rule.value if b.rule else '-'}: {b.reason}" for b in verdict.failures]
    return "\n".join([verdict.headline, *lines, *(f"note: {n}" for n in verdict.notes)])


def test_unchanged_rerun_passes(
    suite: Suite, baseline: ResultsFile, workdir: Path, thresholds: Thresholds
) -> None:
    run = replace(suite, selection=EVIDENCE_SELECTION).run(workdir / "rerun.json")
    assert run.returncode == 0, f"the unchanged rerun failed:\n{run.tail}"
    verdict = judged(baseline, run, thresholds)
    print(describe(verdict))  # which rule caught what, shown with -s or -rP

    assert not verdict.failed, f"A/A false alarm:\n{describe(verdict)}"
    assert not verdict.warnings, verdict.warnings  # the same SQL returned the same rows
    rerun = run.load()
    # The evidence was there to compare: results, temp blocks, WAL, every user's plan.
    assert all(b.results for b in rerun.benchmarks if b.key.variant != "write")
    assert all(b.wal_bytes for b in rerun.benchmarks if b.key.variant == "write")
    assert any(b.user_plans for b in rerun.benchmarks)
    assert verdict.latency_gates, verdict.latency_note  # same machine: latency really gated
    assert cli_compare(baseline, run.load()).returncode == 0


def test_dropped_index_fails_the_benchmarks_that_used_it(
    suite: Suite, baseline: ResultsFile, workdir: Path, thresholds: Thresholds
) -> None:
    affected = {b.key for b in baseline.benchmarks if DROPPED_INDEX in b.plan_indexes}
    assert affected, f"no baseline plan uses {DROPPED_INDEX}: it is not load-bearing any more"

    run = suite.run(workdir / "dropped.json", WhatIf(drop_indexes=(DROPPED_INDEX,)))
    verdict = judged(baseline, run, thresholds)
    print(describe(verdict))  # which rule caught what, shown with -s or -rP

    caught = {b.key: b for b in verdict.failures if b.rule is Rule.PLAN}
    assert set(caught) == affected, describe(verdict)
    for bench in caught.values():
        # The plan rule knows the index is gone from the database, not just unused.
        assert f"expected index {DROPPED_INDEX} does not exist" in bench.reason, bench.reason
    # Bystanders keep their plans and work (a latency alarm there is A/A noise, tested above).
    bystanders = [b for b in verdict.failures if b.key not in affected]
    assert all(b.rule is Rule.LATENCY for b in bystanders), describe(verdict)
    assert any(DROPPED_INDEX in note for note in verdict.notes), verdict.notes
    cli = cli_compare(baseline, run.load())
    assert cli.returncode == 1, cli.stdout + cli.stderr
    # The suite's own per-test plan check fails the run as well.
    assert run.returncode == 1, run.tail


def test_plan_flip_fails_every_benchmark_of_the_feature_by_the_plan_rule(
    suite: Suite, baseline: ResultsFile, workdir: Path, thresholds: Thresholds
) -> None:
    only = replace(suite, selection=(f"tests/perf/test_{FLIPPED_FEATURE}.py",))
    flipped = {b.key for b in baseline.benchmarks if b.feature == FLIPPED_FEATURE}
    assert all(b.expected_indexes for b in baseline.benchmarks if b.key in flipped)

    run = only.run(workdir / "flipped.json", PLAN_FLIP)
    verdict = judged(baseline, run, thresholds)
    print(describe(verdict))  # which rule caught what, shown with -s or -rP

    assert {b.key for b in verdict.failures} == flipped, describe(verdict)
    for bench in verdict.failures:
        assert bench.rule is Rule.PLAN, describe(verdict)
        assert "no longer uses expected index" in bench.reason, bench.reason
    # The other feature was not run: listed as missing, which never gates.
    assert {b.key for b in verdict.missing} == {b.key for b in baseline.benchmarks} - flipped
    assert all(b.status is Status.MISSING for b in verdict.missing)
    assert cli_compare(baseline, run.load()).returncode == 1


def test_pytest_fails_exactly_the_benchmarks_the_gate_fails(
    suite: Suite, baseline: ResultsFile, workdir: Path, thresholds: Thresholds
) -> None:
    # Judged in-process against the baseline, a run's pytest failures are the gate's.
    run = suite.run(
        workdir / "one_verdict.json",
        WhatIf(drop_indexes=(DROPPED_INDEX,)),
        baseline=baseline.path,
    )
    verdict = judged(baseline, run, thresholds)
    print(describe(verdict))  # which rule caught what, shown with -s or -rP

    gate = {b.key for b in verdict.failures}
    assert gate, describe(verdict)  # the injection is caught at all
    assert run.failed_keys == gate, f"pytest failed {run.failed_keys}, the gate {gate}"
    assert run.returncode == 1, run.tail


def test_index_scans_off_alone_is_caught_by_work_where_the_plan_keeps_its_index(
    suite: Suite, baseline: ResultsFile, workdir: Path, thresholds: Thresholds
) -> None:
    only = replace(suite, selection=(f"tests/perf/test_{FLIPPED_FEATURE}.py",))
    run = only.run(workdir / "indexscan_off.json", WhatIf(settings=(("enable_indexscan", "off"),)))
    verdict = judged(baseline, run, thresholds)
    print(describe(verdict))  # which rule caught what, shown with -s or -rP

    assert verdict.failed, describe(verdict)
    # A Bitmap Index Scan on the expected index passes the plan rule; the extra pages it
    # reads (bitmap heap scan, then a sort) are what the work rule catches.
    same_index = [
        b
        for b in verdict.failures
        if b.rule is Rule.WORK
        and b.current
        and b.baseline
        and set(b.current.plan_indexes) == set(b.baseline.plan_indexes)
    ]
    assert same_index, f"no failure the work rule alone caught:\n{describe(verdict)}"
    for bench in verdict.failures:
        assert bench.rule in (Rule.PLAN, Rule.WORK), describe(verdict)


# --------------------------------------------------------------------------- evidence rules


@pytest.fixture(scope="module")
def evidence_verdict(
    suite: Suite, baseline: ResultsFile, workdir: Path, thresholds: Thresholds
) -> tuple[SuiteRun, Verdict]:
    """One run with the four evidence injections, judged in-process against the baseline."""
    run = replace(suite, selection=EVIDENCE_SELECTION).run(
        workdir / "evidence.json", EVIDENCE, baseline=baseline.path
    )
    verdict = judged(baseline, run, thresholds)
    print(describe(verdict))  # which rule caught what, shown with -s or -rP
    return run, verdict


def _failures(verdict: Verdict, rule: Rule, text: str) -> dict[str, str]:
    """Key -> the failure messages of ``rule`` that contain ``text``."""
    found = {}
    for bench in verdict.failures:
        hits = [f.message for f in bench.findings if f.rule is rule and text in f.message]
        if hits and bench.current is not None:
            found[str(bench.key)] = "; ".join(hits)
    return found


def test_a_data_change_that_changes_a_result_fails_the_result_rule(
    evidence_verdict: tuple[SuiteRun, Verdict],
) -> None:
    _, verdict = evidence_verdict
    caught = _failures(verdict, Rule.RESULT, "result changed while its SQL did not")
    key = "dashboard/recent_tasks|heavy|prepared"
    assert key in caught, describe(verdict)
    assert "recent_tasks · heavy: 20 rows as before, other values" in caught[key]
    # Only the heavy user's tasks changed: nobody else's result did.
    assert all("|heavy|" in k for k in caught), caught
    assert next(b for b in verdict.failures if str(b.key) == key).rule is Rule.RESULT


def test_users_whose_plan_loses_the_expected_index_fail_the_plan_rule_by_name(
    evidence_verdict: tuple[SuiteRun, Verdict],
) -> None:
    _, verdict = evidence_verdict
    caught = _failures(verdict, Rule.PLAN, "sampled users) does not use expected index")
    key = "dashboard/recent_tasks|median|prepared"
    assert key in caught, describe(verdict)
    assert re.search(r"the plan for user \d+ \(\d+ of 50 sampled users\)", caught[key])
    assert SOME_USERS_INDEX in caught[key]
    bench = next(b for b in verdict.failures if str(b.key) == key)
    assert bench.rule is Rule.PLAN
    # The persona's own plan kept the index: only the census could see it.
    assert bench.current is not None
    assert "idx_tasks_user_created" in bench.current.plan_indexes


def test_work_mem_64kb_fails_the_work_rule_naming_the_spilling_nodes(
    evidence_verdict: tuple[SuiteRun, Verdict],
) -> None:
    _, verdict = evidence_verdict
    key = "reports/monthly_by_tier_provider|any|prepared"
    caught = _failures(verdict, Rule.WORK, "now spills to disk")
    assert key in caught, describe(verdict)
    assert "Hash for (t.user_id = u.id) now spills to disk" in caught[key]
    assert next(b for b in verdict.failures if str(b.key) == key).rule is Rule.WORK


def test_four_more_indexes_fail_the_write_path_by_its_wal_naming_them(
    evidence_verdict: tuple[SuiteRun, Verdict],
) -> None:
    run, verdict = evidence_verdict
    caught = _failures(verdict, Rule.WORK, "more WAL per write path")
    writes = {k for k in caught if k.startswith("playground/write_path|")}
    assert writes == {"playground/write_path|median|write", "playground/write_path|heavy|write"}
    for key in writes:
        for name in MORE_INDEXES:
            assert name in caught[key], caught[key]
    # Judged in-process against the baseline, pytest fails exactly what the gate fails.
    assert run.failed_keys == {b.key for b in verdict.failures}, run.tail
    assert run.returncode == 1
