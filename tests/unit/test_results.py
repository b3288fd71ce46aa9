"""Results files: the typed records (pgperf.verdict.record), reading, validating and promoting
them (pgperf.verdict.results), and the run metadata the suite writes (pgperf.measure.run)."""

from __future__ import annotations

import json
import os
import re
import statistics
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgperf import files, host
from pgperf.config import Config
from pgperf.errors import EXIT_BAD_INPUT, ResultsFileError
from pgperf.measure.run import content_hashes, postgres_major, run_metadata
from pgperf.provision import ServerHandle
from pgperf.verdict.record import (
    FORMAT_VERSION,
    READABLE_VERSIONS,
    BenchmarkKey,
    BenchmarkRecord,
)
from pgperf.verdict.results import (
    check_comparable,
    load_results,
    parse_results,
    promote,
)

DATA = Path(__file__).parent / "data"
BASELINE = DATA / "verdict_baseline.json"


def _document() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BASELINE.read_text())
    return data


def _write(tmp_path: Path, data: object, name: str = "results.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_loads_a_recorded_results_file() -> None:
    loaded = load_results(BASELINE)
    assert loaded.meta.profile == "ci"
    assert loaded.meta.seed == 42
    assert loaded.meta.postgres.major == 15
    assert loaded.meta.machine.cores == 2
    assert len(loaded.benchmarks) == 16
    bench = loaded.by_key()[BenchmarkKey("dashboard", "task_counts_30d", "heavy", "prepared")]
    assert bench.feature == "dashboard"
    assert bench.budget_ms == 50
    assert bench.expected_indexes == ("idx_tasks_user_status_created",)
    assert len(bench.samples_ms) == 30
    assert bench.median_ms == pytest.approx(statistics.median(bench.samples_ms))
    assert bench.label == "task_counts_30d · heavy · prepared"


def test_median_falls_back_to_pytest_benchmark_stats_in_seconds(tmp_path: Path) -> None:
    data = _document()
    del data["benchmarks"][0]["extra_info"]["samples_ms"]
    data["benchmarks"][0]["stats"]["median"] = 0.0042
    bench = load_results(_write(tmp_path, data)).benchmarks[0]
    assert bench.median_ms == pytest.approx(4.2)
    assert bench.samples_ms == ()


def test_missing_file_says_how_to_make_a_baseline(tmp_path: Path) -> None:
    with pytest.raises(ResultsFileError) as caught:
        load_results(tmp_path / "nope.json", role="baseline")
    assert "baseline" in str(caught.value)
    assert "does not exist" in caught.value.message
    assert caught.value.hint is not None
    assert "make baseline" in caught.value.hint


def test_folder_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ResultsFileError, match="cannot read"):
        load_results(tmp_path)


def test_truncated_file_is_corrupt_with_position(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(BASELINE.read_text()[:5000])
    with pytest.raises(ResultsFileError, match=r"not valid JSON \(line \d+, column \d+"):
        load_results(path)


def test_plain_pytest_benchmark_file_is_not_a_pgperf_file(tmp_path: Path) -> None:
    data = _document()
    del data["pgperf"]
    with pytest.raises(ResultsFileError, match='no top-level "pgperf" object'):
        load_results(_write(tmp_path, data))


def test_unknown_format_version_names_both_versions(tmp_path: Path) -> None:
    data = _document()
    data["pgperf"]["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(ResultsFileError) as caught:
        load_results(_write(tmp_path, data))
    assert f"format version {FORMAT_VERSION + 1}" in caught.value.message
    assert READABLE_VERSIONS == (1, 2)
    assert "reads format versions 1, 2" in caught.value.message
    assert "newer" in caught.value.message


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["benchmarks"][2]["extra_info"].pop("key"), r"benchmarks\[2\].*no 'key'"),
        (lambda d: d["benchmarks"][0]["extra_info"].update(buffers="lots"), "buffers is str"),
        (lambda d: d["benchmarks"][0]["extra_info"].update(samples_ms=[1, "x"]), "samples_ms"),
        (lambda d: d["pgperf"].pop("seed"), "no 'seed'"),
        (lambda d: d["pgperf"]["machine"].pop("fingerprint"), "no 'fingerprint'"),
        (lambda d: d.update(benchmarks={}), "benchmarks is dict"),
        (lambda d: d["benchmarks"].append(d["benchmarks"][0]), "share the key"),
        (lambda d: d["benchmarks"].clear(), "holds no benchmarks"),
    ],
)
def test_structural_problems_name_the_field(tmp_path: Path, mutate: Any, expected: str) -> None:
    data = _document()
    mutate(data)
    with pytest.raises(ResultsFileError, match=expected) as caught:
        load_results(_write(tmp_path, data))
    assert "It was checked for" in caught.value.message


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    with pytest.raises(ResultsFileError, match="top level is list"):
        parse_results([], path=tmp_path / "x.json")


def test_other_profile_is_incompatible(tmp_path: Path) -> None:
    data = _document()
    data["pgperf"]["profile"] = "default"
    with pytest.raises(ResultsFileError) as caught:
        check_comparable(load_results(_write(tmp_path, data)), load_results(BASELINE))
    assert "'default'" in caught.value.message
    assert "'ci'" in caught.value.message
    assert caught.value.hint is not None
    assert "baselines/ci.json" in caught.value.hint


def test_same_profile_and_seed_are_comparable() -> None:
    check_comparable(load_results(BASELINE), load_results(DATA / "verdict_rerun.json"))


def test_promote_copies_verbatim_and_creates_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "baselines" / "ci.json"
    parsed = promote(BASELINE, target)
    assert target.read_bytes() == BASELINE.read_bytes()
    assert parsed.meta.profile == "ci"
    assert os.listdir(target.parent) == ["ci.json"]  # no temporary file left behind


def test_promote_refuses_an_invalid_file_and_keeps_the_old_baseline(tmp_path: Path) -> None:
    target = tmp_path / "ci.json"
    target.write_text("old baseline")
    broken = tmp_path / "results.json"
    broken.write_text('{"benchmarks": [')
    with pytest.raises(ResultsFileError):
        promote(broken, target)
    assert target.read_text() == "old baseline"


def test_promote_interrupted_before_rename_leaves_old_baseline_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ci.json"
    target.write_text("old baseline")

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", crash)
    # The OS error becomes a ResultsFileError that says which file and that nothing changed.
    with pytest.raises(ResultsFileError, match="disk full") as caught:
        promote(BASELINE, target)
    assert f"cannot write the baseline {target}" in caught.value.message
    assert "nothing was written" in caught.value.message
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert target.read_text() == "old baseline"
    assert os.listdir(tmp_path) == ["ci.json"]


@pytest.mark.parametrize(
    ("version", "major"), [("15.18", 15), ("17.2 (Debian 17.2-1.pgdg120+1)", 17), ("9.6.24", 9)]
)
def test_postgres_major(version: str, major: int) -> None:
    assert postgres_major(version) == major


def test_postgres_major_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="major"):
        postgres_major("devel")


def test_machine_fingerprint_is_stable_across_calls() -> None:
    first, second = host.machine_info(), host.machine_info()
    assert first == second
    assert len(first.fingerprint) == 16
    assert first.cores >= 1


def _project(tmp_path: Path) -> Config:
    (tmp_path / "sql" / "queries" / "dashboard").mkdir(parents=True)
    (tmp_path / "sql" / "schema.sql").write_text("CREATE TABLE t (id int);")
    (tmp_path / "sql" / "queries" / "dashboard" / "q.sql").write_text("SELECT 1;")
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "gen.py").write_text("x = 1\n")
    return Config(project_root=tmp_path, profile="ci", seed=7)


def test_build_run_metadata_round_trips_through_the_reader(tmp_path: Path) -> None:
    config = _project(tmp_path)
    server = ServerHandle(
        backend="local",
        conninfo="host=/nowhere dbname=postgres",  # never connected: the metadata is pure
        version="17.2 (Debian 17.2-1.pgdg120+1)",
        major=17,
        settings={"jit": "off", "work_mem": "4096"},
    )
    meta = run_metadata(
        config,
        server,
        commit="abc123",
        created_at=datetime(2026, 11, 24, 23, 0, tzinfo=timezone.utc),
    )
    written = json.loads(json.dumps(meta.to_json()))
    assert written["format_version"] == FORMAT_VERSION
    written["postgres"]["settings"]["work_mem"] = 4096  # a number in the JSON reads as text
    document = {"benchmarks": _document()["benchmarks"][:1], "pgperf": written}
    parsed = parse_results(document, path=tmp_path / "r.json").meta
    assert (parsed.profile, parsed.seed, parsed.backend) == ("ci", 7, "local")
    assert (parsed.postgres.version, parsed.postgres.major) == ("17.2", 17)
    assert parsed.postgres.settings == {"jit": "off", "work_mem": "4096"}
    assert set(parsed.hashes) == {"schema", "queries", "generators"}  # absent files left out
    assert parsed.git_commit == "abc123"
    assert parsed.created_at == "2026-11-24T23:00:00+00:00"
    assert parsed.machine == host.machine_info()
    assert parsed.format_version == FORMAT_VERSION
    assert parsed == meta


def test_content_hash_changes_with_the_queries(tmp_path: Path) -> None:
    config = _project(tmp_path)
    before = content_hashes(config.layout)
    (tmp_path / "sql" / "queries" / "dashboard" / "q.sql").write_text("SELECT 2;")
    after = content_hashes(config.layout)
    assert before["queries"] != after["queries"]
    assert before["schema"] == after["schema"]


def test_git_commit_outside_a_repository_is_none(tmp_path: Path) -> None:
    assert host.git_commit(tmp_path) is None


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    "text",
    [
        "dashboard/task_counts_30d|heavy|prepared",
        "dashboard/page|heavy|page",
        "dashboard/checkout|population|load",
        "agents/a/b|any|generic",  # the query keeps any '/' after the feature's
    ],
)
def test_key_text_round_trip(text: str) -> None:
    key = BenchmarkKey.parse(text)
    assert str(key) == text
    assert BenchmarkKey.parse(str(key)) == key


def test_key_parts_and_names() -> None:
    key = BenchmarkKey.parse("dashboard/task_counts_30d|heavy|prepared")
    assert key == BenchmarkKey("dashboard", "task_counts_30d", "heavy", "prepared")
    assert key.qualified == "dashboard/task_counts_30d"
    assert key.label == "task_counts_30d · heavy · prepared"


_PART = st.text(st.characters(blacklist_characters="|/", blacklist_categories=("Cs",)), min_size=1)


@given(_PART, st.text(st.characters(blacklist_characters="|"), min_size=1), _PART, _PART)
def test_any_key_survives_its_text_form(
    feature: str, query: str, persona: str, variant: str
) -> None:
    key = BenchmarkKey(feature, query, persona, variant)
    assert BenchmarkKey.parse(str(key)) == key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "dashboard",
        "dashboard/q",
        "dashboard/q|heavy",
        "dashboard/q|heavy|prepared|extra",
        "/q|heavy|prepared",
        "dashboard/|heavy|prepared",
        "dashboard/q||prepared",
        "dashboard/q|heavy|",
        "dashboard|q|heavy|prepared",
    ],
)
def test_key_parse_refuses_what_is_not_a_key(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a key like 'feature/query\|persona\|variant'"):
        BenchmarkKey.parse(text)


def test_a_file_with_a_malformed_key_names_it(tmp_path: Path) -> None:
    data = _document()
    data["benchmarks"][3]["extra_info"]["key"] = "dashboard-without-parts"
    with pytest.raises(ResultsFileError, match=r"benchmarks\[3\]\.extra_info .*\.key: "):
        load_results(_write(tmp_path, data))


# --------------------------------------------------------------------------- records


def _full_record() -> BenchmarkRecord:
    samples = (2.5, 2.75, 3.0, 3.25, 9.5)
    return BenchmarkRecord(
        key=BenchmarkKey("dashboard", "page", "heavy", "page"),
        name="test_dashboard_page[heavy]",
        samples_ms=samples,
        median_ms=statistics.median(samples),
        p95_ms=8.25,
        budget_ms=50.0,
        p50_ms=3.0,
        p99_ms=9.25,
        rows=12,
        buffers=480,
        server_ms=2.125,
        cpu_pressure=0.031,
        plan_indexes=("idx_tasks_user_status_created",),
        expected_indexes=("idx_tasks_user_status_created", "idx_agents_owner"),
        seq_scans=("subscription_tiers", "tasks"),
        seqscan_allowed=("subscription_tiers",),
        plan={"Node Type": "Limit", "Plans": [{"Node Type": "Index Scan", "Rows": 12}]},
        large_seq_scans=("tasks",),
        sorts=1,
        keyset=True,
        missing_indexes=("idx_agents_owner",),
        catalog_problems=("query page is marked partial but its index is not",),
        per_query_ms={"task_counts_30d": 1.25, "recent_tasks": 0.5},
        errors=2,
        error_samples=("timeout", "deadlock detected"),
        sustained=False,
        offered_rps=50.0,
        throughput_rps=41.5,
        load_problems=("background refresh_stats failed: canceled",),
        details={"pool_wait_ms": 1.5, "waits": {"Lock:tuple": 3}, "statements": [{"calls": 7}]},
    )


def _file_of(tmp_path: Path, *records: BenchmarkRecord) -> Path:
    """A results file whose benchmarks are ``records`` as the suite writes them."""
    data = _document()
    data["pgperf"]["format_version"] = FORMAT_VERSION
    data["benchmarks"] = [{"name": r.name, "extra_info": r.to_extra_info()} for r in records]
    return _write(tmp_path, data)


def test_record_round_trips_through_its_extra_info(tmp_path: Path) -> None:
    record = _full_record()
    info = record.to_extra_info()
    assert info["key"] == "dashboard/page|heavy|page"
    assert (info["feature"], info["query"], info["persona"], info["variant"]) == (
        "dashboard",
        "page",
        "heavy",
        "page",
    )
    assert info["pool_wait_ms"] == 1.5  # details travel at the top of extra_info
    (read,) = load_results(_file_of(tmp_path, record)).benchmarks
    assert read == record
    assert dict(read.per_query_ms) == {"task_counts_30d": 1.25, "recent_tasks": 0.5}
    assert read.details == record.details
    assert read.costliest == ("task_counts_30d", 1.25)


def test_parse_results_reads_back_what_to_extra_info_wrote(tmp_path: Path) -> None:
    record = _full_record()
    data = _document()
    data["benchmarks"] = [{"name": record.name, "extra_info": record.to_extra_info()}]
    parsed = parse_results(json.loads(json.dumps(data)), path=tmp_path / "r.json")
    assert parsed.benchmarks == (record,)


def test_a_minimal_record_keeps_its_absent_facts_absent(tmp_path: Path) -> None:
    minimal = BenchmarkRecord(
        key=BenchmarkKey("reports", "weekly", "median", "generic"),
        name="weekly",
        samples_ms=(1.0, 2.0, 3.0),
        median_ms=2.0,
        p95_ms=2.9,
        large_seq_scans=(),  # recorded, and nothing was large: not the same as unknown
    )
    info = minimal.to_extra_info()
    for absent in ("budget_ms", "buffers", "sorts", "errors", "sustained", "cpu_pressure"):
        assert absent not in info
    assert info["large_seq_scans"] == []
    (read,) = load_results(_file_of(tmp_path, minimal)).benchmarks
    assert read == minimal
    assert read.large_seq_scans == ()
    assert read.sustained is None
    assert read.costliest is None


def test_a_format1_file_loads_without_the_format2_facts() -> None:
    recorded = sorted([*DATA.glob("verdict_*.json"), *DATA.glob("report_*.json")])
    assert len(recorded) == 7
    for path in recorded:
        loaded = load_results(path)
        assert loaded.meta.format_version == 1, path.name
        for bench in loaded.benchmarks:
            assert bench.large_seq_scans is None, bench.key
            assert bench.sorts is None
            assert bench.keyset is False
            assert bench.missing_indexes == ()
            assert bench.catalog_problems == ()
            assert dict(bench.per_query_ms) == {}
            assert bench.errors is None
            assert bench.sustained is None


def test_format1_extra_fields_are_kept_as_details(tmp_path: Path) -> None:
    data = _document()
    data["benchmarks"][0]["extra_info"]["tuned_by"] = {"who": "dba", "when": 3}
    bench = load_results(_write(tmp_path, data)).benchmarks[0]
    assert bench.details == {"tuned_by": {"who": "dba", "when": 3}}


# --------------------------------------------------------------------------- range checks


def _extra(**values: object) -> Any:
    def mutate(d: dict[str, Any]) -> None:
        d["benchmarks"][1]["extra_info"].update(values)

    return mutate


def _no_samples_median(value: float) -> Any:
    def mutate(d: dict[str, Any]) -> None:
        del d["benchmarks"][1]["extra_info"]["samples_ms"]
        d["benchmarks"][1]["stats"]["median"] = value

    return mutate


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("mutate", "field", "shown"),
    [
        (_extra(samples_ms=[2.0, NAN, 3.0]), r"samples_ms\[1\]", "nan"),
        (_extra(samples_ms=[2.0, INF]), r"samples_ms\[1\]", "inf"),
        (_extra(samples_ms=[-0.5, 2.0]), r"samples_ms\[0\]", "-0.5"),
        (_extra(p95_ms=NAN), "p95_ms", "nan"),
        (_extra(p95_ms=-INF), "p95_ms", "-inf"),
        (_extra(budget_ms=-50), "budget_ms", "-50.0"),
        (_extra(server_ms=INF), "server_ms", "inf"),
        (_extra(p99_ms=-1.0), "p99_ms", "-1.0"),
        (_extra(buffers=-1), "buffers", "-1"),
        (_extra(rows=-3), "rows", "-3"),
        (_extra(sorts=-1), "sorts", "-1"),
        (_extra(errors=-2), "errors", "-2"),
        (_extra(cpu_pressure=1.5), "cpu_pressure", "1.5"),
        (_extra(cpu_pressure=-0.1), "cpu_pressure", "-0.1"),
        (_extra(cpu_pressure=NAN), "cpu_pressure", "nan"),
        (_extra(offered_rps=-5.0), "offered_rps", "-5.0"),
        (_extra(per_query_ms={"recent_tasks": NAN}), r"per_query_ms\.recent_tasks", "nan"),
        (_extra(per_query_ms={"recent_tasks": -1}), r"per_query_ms\.recent_tasks", "-1.0"),
        (_no_samples_median(-0.004), "stats.median", "-4.0"),
        (_no_samples_median(INF), "stats.median", "inf"),
    ],
)
def test_measurements_out_of_range_are_refused_naming_the_field(
    tmp_path: Path, mutate: Any, field: str, shown: str
) -> None:
    data = _document()
    mutate(data)
    with pytest.raises(ResultsFileError) as caught:
        load_results(_write(tmp_path, data))  # json writes NaN and Infinity as such
    message = caught.value.message
    assert re.search(rf"benchmarks\[1\]\.extra_info \([^)]*\)[.:] ?{field} is ", message), message
    assert f" is {shown}: a measurement must be finite, >= 0" in message
    assert caught.value.exit_code == EXIT_BAD_INPUT


def test_cpu_pressure_names_its_upper_bound(tmp_path: Path) -> None:
    data = _document()
    _extra(cpu_pressure=1.01)(data)
    with pytest.raises(ResultsFileError, match=r"cpu_pressure is 1\.01: .* and at most 1\b"):
        load_results(_write(tmp_path, data))


@pytest.mark.parametrize("value", [0.0, 1.0, 0.37])
def test_cpu_pressure_within_zero_and_one_is_read(tmp_path: Path, value: float) -> None:
    data = _document()
    _extra(cpu_pressure=value)(data)
    assert load_results(_write(tmp_path, data)).benchmarks[1].cpu_pressure == value


def test_zero_is_a_measurement(tmp_path: Path) -> None:
    data = _document()
    _extra(buffers=0, rows=0, samples_ms=[0.0, 0.0, 0.0], p95_ms=0.0)(data)
    bench = load_results(_write(tmp_path, data)).benchmarks[1]
    assert (bench.buffers, bench.rows, bench.median_ms, bench.p95_ms) == (0, 0, 0.0, 0.0)


@pytest.mark.parametrize("profile", ["/tmp/x", "../../etc/passwd", "CI", "ci.json", "", "a" * 21])
def test_a_profile_that_is_no_profile_name_is_refused(tmp_path: Path, profile: str) -> None:
    data = _document()
    data["pgperf"]["profile"] = profile
    with pytest.raises(ResultsFileError) as caught:
        load_results(_write(tmp_path, data))
    assert f"pgperf.profile {profile!r} is not a profile name" in caught.value.message
    assert caught.value.exit_code == EXIT_BAD_INPUT


def test_deeply_nested_json_is_a_results_file_error_not_a_recursion_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ResultsFileError) as caught:
        load_results(path)
    assert "its JSON nests deeper" in caught.value.message
    assert caught.value.exit_code == EXIT_BAD_INPUT


def test_deep_nesting_inside_a_results_file_is_a_results_file_error(tmp_path: Path) -> None:
    text = BASELINE.read_text()
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "results.json"
    path.write_text(text.replace('"index_usage": []', f'"index_usage": {deep}', 1))
    assert path.read_text() != text
    with pytest.raises(ResultsFileError, match="nests deeper"):
        load_results(path)
