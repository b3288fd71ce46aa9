"""What-if options, CPU pressure, and how the verdict treats both (no database)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pgperf.errors import ResultsFileError
from pgperf.host import Pressure, cpu_stall_us, pressure_over
from pgperf.stats import median, percentile
from pgperf.verdict.findings import Kind, Rule, Thresholds
from pgperf.verdict.record import BenchmarkKey, BenchmarkRecord, ResultsFile, WhatIf, parse_setting
from pgperf.verdict.results import load_results, promote
from pgperf.verdict.rules import judge
from pgperf.verdict.selftest import aa_summary
from pgperf.verdict.verdict import compare

DATA = Path(__file__).parent / "data"


def test_a_setting_is_name_equals_value() -> None:
    assert parse_setting(" enable_indexscan = off ") == ("enable_indexscan", "off")
    for bad in ("enable_indexscan", "=off", "enable_indexscan="):
        with pytest.raises(ValueError, match="NAME=VALUE"):
            parse_setting(bad)


def test_options_round_trip_through_the_command_line() -> None:
    what_if = WhatIf.from_options(["idx_a", "idx_b"], ["enable_indexscan=off", "work_mem=4MB"])

    assert what_if.cli_args() == [
        "--what-if-drop-index", "idx_a", "--what-if-drop-index", "idx_b",
        "--what-if-setting", "enable_indexscan=off", "--what-if-setting", "work_mem=4MB",
    ]  # fmt: skip
    assert what_if.to_json() == {
        "drop_indexes": ["idx_a", "idx_b"],
        "settings": {"enable_indexscan": "off", "work_mem": "4MB"},
    }
    assert not WhatIf.from_options(None, None)
    assert what_if.described == (
        "dropped index idx_a, idx_b; settings enable_indexscan=off, work_mem=4MB"
    )
    assert WhatIf().described == "no change"
    with pytest.raises(ValueError, match="NAME=VALUE"):
        WhatIf.from_options(None, ["work_mem"])


def test_sql_what_ifs_round_trip_through_the_command_line_and_the_file(tmp_path: Path) -> None:
    what_if = WhatIf.from_options(None, None, ["CREATE INDEX i ON t (a)", "ANALYZE t"])
    assert what_if
    assert what_if.cli_args() == [
        "--what-if-sql", "CREATE INDEX i ON t (a)", "--what-if-sql", "ANALYZE t",
    ]  # fmt: skip
    assert what_if.to_json() == {
        "drop_indexes": [],
        "settings": {},
        "sql": ["CREATE INDEX i ON t (a)", "ANALYZE t"],
    }
    assert what_if.described == "ran SQL: CREATE INDEX i ON t (a); ANALYZE t"
    data = json.loads((DATA / "verdict_baseline.json").read_text())
    data["pgperf"]["what_if"] = what_if.to_json()
    path = tmp_path / "sql.json"
    path.write_text(json.dumps(data))
    assert load_results(path).meta.what_if == what_if


def _what_if_file(tmp_path: Path) -> Path:
    source = DATA / "verdict_baseline.json"
    data = json.loads(source.read_text())
    data["pgperf"]["what_if"] = WhatIf(drop_indexes=("idx_a",)).to_json()
    path = tmp_path / "whatif.json"
    path.write_text(json.dumps(data))
    return path


def test_a_what_if_run_is_never_promoted_to_a_baseline(tmp_path: Path) -> None:
    target = tmp_path / "baselines" / "ci.json"
    with pytest.raises(ResultsFileError, match="what-if run"):
        promote(_what_if_file(tmp_path), target)
    assert not target.exists()


def test_the_verdict_says_the_results_are_a_what_if(tmp_path: Path) -> None:
    baseline = load_results(DATA / "verdict_baseline.json")
    verdict = compare(baseline, load_results(_what_if_file(tmp_path)))
    assert any("what-if run (dropped index idx_a)" in note for note in verdict.notes)


# --------------------------------------------------------------------------- CPU pressure


def test_reads_the_cpu_stall_total(tmp_path: Path) -> None:
    psi = tmp_path / "cpu"
    psi.write_text(
        "some avg10=41.64 avg60=64.53 avg300=57.53 total=529976719\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    )
    assert cpu_stall_us(psi) == 529976719
    assert cpu_stall_us(tmp_path / "absent") is None


def _psi(path: Path, total: int) -> None:
    path.write_text(f"some avg10=0.00 avg60=0.00 avg300=0.00 total={total}\n")


def test_pressure_is_the_stall_share_of_the_block_within_0_and_1(tmp_path: Path) -> None:
    psi = tmp_path / "cpu"
    _psi(psi, 1_000)
    with pressure_over(psi) as quiet:
        assert quiet.share is None  # known only once the block ends
    assert quiet.share == 0.0  # no stall during the block: quiet, not unknown
    with pressure_over(psi) as busy:
        _psi(psi, 1_000 + 10**12)  # more stall than wall time (several tasks waiting)
    assert busy.share == 1.0
    readings: list[Pressure] = []

    def failing_benchmark() -> None:
        with pressure_over(psi) as reading:
            readings.append(reading)
            _psi(psi, 1_000 + 2 * 10**12)
            raise RuntimeError("the benchmark failed")

    with pytest.raises(RuntimeError, match="the benchmark failed"):
        failing_benchmark()
    assert readings[0].share == 1.0  # a failed block still gets its pressure


def test_pressure_is_unknown_without_psi(tmp_path: Path) -> None:
    with pressure_over(tmp_path / "absent") as reading:
        pass
    assert reading.share is None


def _bench(samples: list[float], pressure: float | None) -> BenchmarkRecord:
    return BenchmarkRecord(
        key=BenchmarkKey("dashboard", "q", "heavy", "prepared"),
        name="q",
        samples_ms=tuple(samples),
        median_ms=median(samples),
        p95_ms=percentile(samples, 95),
        buffers=10,
        cpu_pressure=pressure,
    )


SLOW = [3.0 + i / 100 for i in range(40)]
FAST = [2.0 + i / 100 for i in range(40)]


def test_a_slowdown_measured_on_a_quiet_machine_fails() -> None:
    verdict = judge(_bench(SLOW, 0.02), _bench(FAST, 0.0), Thresholds())
    assert verdict.rule is Rule.LATENCY


@pytest.mark.parametrize(("current", "base"), [(0.6, 0.0), (0.0, 0.6), (None, 0.6)])
def test_a_slowdown_on_a_busy_machine_is_information(
    current: float | None, base: float | None
) -> None:
    verdict = judge(_bench(SLOW, current), _bench(FAST, base), Thresholds())

    assert not verdict.failed
    (finding,) = verdict.findings
    assert finding.kind is Kind.INFO
    assert "information only, the machine was busy (CPU pressure 60%" in finding.message


def test_a_busy_machine_still_fails_plans_and_work() -> None:
    base = _bench(FAST, 0.0)
    more_work = replace(_bench(FAST, 0.9), buffers=50)
    assert judge(more_work, base, Thresholds()).rule is Rule.WORK


# --------------------------------------------------------------------------- A/A summary


def _slowed(run: ResultsFile, factor: float, *, pressure: float | None) -> ResultsFile:
    benches = []
    for b in run.benchmarks:
        samples = [s * factor for s in b.samples_ms]
        benches.append(
            replace(
                b,
                samples_ms=tuple(samples),
                median_ms=median(samples),
                p95_ms=percentile(samples, 95),
                cpu_pressure=pressure,
            )
        )
    return replace(run, benchmarks=tuple(benches))


def test_aa_summary_counts_false_alarms_and_spread() -> None:
    first = load_results(DATA / "verdict_baseline.json")
    quiet_slow = _slowed(first, 3.0, pressure=0.0)
    busy_slow = _slowed(first, 3.0, pressure=0.8)

    summary = aa_summary([first, first, busy_slow, quiet_slow], Thresholds())

    assert summary.runs == 4
    assert summary.compared == 3 * len(first.benchmarks)
    assert summary.latency_gated == 2 * len(first.benchmarks)  # the busy run is exempt
    latency = {a.run for a in summary.false_alarms if a.rule is Rule.LATENCY}
    assert latency == {4}  # tripled medians alarm on a quiet machine only
    ignored = {a.run for a in summary.alarms_if_busy_ignored if a.rule is Rule.LATENCY}
    assert ignored == {3, 4}
    assert all(ratio == pytest.approx(3.0) for ratio in summary.spread.values())


def test_aa_summary_leaves_out_runs_of_a_changed_tree() -> None:
    first = load_results(DATA / "verdict_baseline.json")
    edited = replace(first, meta=replace(first.meta, hashes={**first.meta.hashes, "queries": "x"}))
    slow = _slowed(first, 3.0, pressure=0.0)

    summary = aa_summary([first, replace(edited, benchmarks=slow.benchmarks), first], Thresholds())

    assert summary.skipped == {2: ["queries"]}
    assert summary.runs == 2
    assert summary.false_alarms == ()
    assert summary.compared == len(first.benchmarks)
