"""pgperf.results: reading, validating, promoting results files and building their metadata."""

from __future__ import annotations

import json
import os
import statistics
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from pgperf import results
from pgperf.config import Config
from pgperf.errors import ResultsFileError
from pgperf.results import (
    FORMAT_VERSION,
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
    bench = loaded.by_key()["dashboard/task_counts_30d|heavy|prepared"]
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
    assert f"reads format version {FORMAT_VERSION}" in caught.value.message


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

    monkeypatch.setattr(results.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        promote(BASELINE, target)
    assert target.read_text() == "old baseline"
    assert os.listdir(tmp_path) == ["ci.json"]


@pytest.mark.parametrize(
    ("version", "major"), [("15.18", 15), ("17.2 (Debian 17.2-1.pgdg120+1)", 17), ("9.6.24", 9)]
)
def test_postgres_major(version: str, major: int) -> None:
    assert results.postgres_major(version) == major


def test_postgres_major_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="major"):
        results.postgres_major("devel")


def test_machine_fingerprint_is_stable_across_calls() -> None:
    first, second = results.machine_info(), results.machine_info()
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
    meta = results.build_run_metadata(
        config,
        postgres_version="17.2 (Debian 17.2-1.pgdg120+1)",
        postgres_settings={"jit": "off", "work_mem": 4096},
        backend="local",
        commit="abc123",
        created_at=datetime(2026, 11, 24, 23, 0, tzinfo=timezone.utc),
    )
    document = {"benchmarks": _document()["benchmarks"][:1], "pgperf": meta}
    parsed = parse_results(json.loads(json.dumps(document)), path=tmp_path / "r.json").meta
    assert (parsed.profile, parsed.seed, parsed.backend) == ("ci", 7, "local")
    assert (parsed.postgres.version, parsed.postgres.major) == ("17.2", 17)
    assert parsed.postgres.settings == {"jit": "off", "work_mem": "4096"}
    assert set(parsed.hashes) == {"schema", "queries", "generators"}  # absent files left out
    assert parsed.git_commit == "abc123"
    assert parsed.created_at == "2026-11-24T23:00:00+00:00"
    assert parsed.machine == results.machine_info()


def test_content_hash_changes_with_the_queries(tmp_path: Path) -> None:
    config = _project(tmp_path)
    before = results.content_hashes(config)
    (tmp_path / "sql" / "queries" / "dashboard" / "q.sql").write_text("SELECT 2;")
    after = results.content_hashes(config)
    assert before["queries"] != after["queries"]
    assert before["schema"] == after["schema"]


def test_git_commit_outside_a_repository_is_none(tmp_path: Path) -> None:
    assert results.git_commit(tmp_path) is None
