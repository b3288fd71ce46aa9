"""`pgperf compare`, `pgperf verdict` and `pgperf baseline promote`: exit codes, files, messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pgperf.commands.cli import main
from pgperf.config import SETTINGS
from pgperf.errors import EXIT_BAD_INPUT, EXIT_PASS, EXIT_REGRESSION
from pgperf.report import json_report
from pgperf.verdict.findings import Thresholds
from pgperf.verdict.record import BenchmarkKey
from pgperf.verdict.results import load_results
from pgperf.verdict.verdict import Verdict, judge_files

DATA = Path(__file__).parent / "data"
BASELINE = str(DATA / "verdict_baseline.json")
RERUN = str(DATA / "verdict_rerun.json")
REGRESSED = str(DATA / "verdict_regressed.json")
OTHER_MACHINE = str(DATA / "verdict_other_machine.json")
REGRESSED_KEYS = {
    "dashboard/task_counts_30d|heavy|prepared",
    "playground/history_keyset|heavy|prepared",
    "agents/search_name|median|prepared",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The project root the commands see: one without any stored baseline yet."""
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, project: Path) -> None:
    for row in SETTINGS:
        monkeypatch.delenv(row.env, raising=False)
    monkeypatch.setenv("PGPERF_REPORTS_DIR", str(tmp_path / "reports"))
    # Not this checkout's root, whose committed baselines/ci.json would be judged against.
    monkeypatch.setenv("PGPERF_PROJECT_ROOT", str(project))
    monkeypatch.setenv("COLUMNS", "200")


def _store_baseline(project: Path, source: str, profile: str = "ci") -> Path:
    target = project / "baselines" / f"{profile}.json"
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(source, target)
    return target


def _variant(tmp_path: Path, change: dict[str, object]) -> str:
    data = json.loads(Path(RERUN).read_text())
    data["pgperf"].update(change)
    path = tmp_path / "variant.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_unchanged_rerun_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", BASELINE, RERUN]) == 0
    out = capsys.readouterr().out
    assert "PASS: 16 benchmarks" in out
    assert "task_counts_30d" in out


def test_regression_exits_1_and_writes_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    markdown = tmp_path / "out" / "verdict.md"
    assert main(["compare", BASELINE, REGRESSED, "--markdown", str(markdown)]) == 1
    assert "FAIL: 3 of 16 benchmarks regressed" in capsys.readouterr().out
    text = markdown.read_text()
    assert text.startswith("## ❌ pgperf — FAIL")
    assert text.index("### Failures") < text.index("<details>")
    assert "`dashboard/task_counts_30d\\|heavy\\|prepared` | plan |" in text
    assert "**New** (not in the baseline): `agents/filter_configuration" in text
    assert "**Missing**" in text


def test_threshold_option_changes_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    # At 80% the +59% slowdown and the +45% buffers pass; the lost index still fails.
    assert main(["compare", BASELINE, REGRESSED, "--regression-threshold", "80%"]) == 1
    assert "(plan 1)" in capsys.readouterr().out


def test_invalid_threshold_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", BASELINE, RERUN, "--regression-threshold", "lots"]) == 2
    assert "regression_threshold" in capsys.readouterr().err


def test_missing_baseline_exits_2_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(tmp_path / "none.json"), RERUN]) == 2
    err = capsys.readouterr().err
    assert "baseline" in err
    assert "does not exist" in err
    assert "hint: " in err
    assert "make baseline" in err


def test_corrupt_results_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corrupt = tmp_path / "results.json"
    corrupt.write_text(Path(RERUN).read_text()[:777])
    assert main(["compare", BASELINE, str(corrupt)]) == 2
    assert "is corrupt: not valid JSON" in capsys.readouterr().err


def test_other_profile_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", BASELINE, _variant(tmp_path, {"profile": "default"})]) == 2
    err = capsys.readouterr().err
    assert "profile 'ci'" in err
    assert "profile 'default'" in err


def test_unknown_format_version_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", BASELINE, _variant(tmp_path, {"format_version": 9})]) == 2
    assert "format version 9" in capsys.readouterr().err


def test_verdict_without_baseline_says_how_to_make_one_and_passes(
    tmp_path: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verdict", RERUN]) == 0
    out = capsys.readouterr().out
    assert f"no baseline at {project / 'baselines' / 'ci.json'}" in out
    assert "make baseline" in out
    assert "PASS: 16 benchmarks, no regression (no baseline: budgets and plans only)" in out
    # Files are written only when asked for (--markdown FILE, --json FILE).
    assert not (tmp_path / "reports").exists()


def test_verdict_without_baseline_still_gates_budgets() -> None:
    assert main(["verdict", str(DATA / "verdict_over_budget.json")]) == 1


def test_verdict_uses_the_profiles_stored_baseline(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store_baseline(project, BASELINE, "ci")
    (project / "baselines" / "default.json").write_text("not the ci baseline")
    assert main(["verdict", REGRESSED]) == 1
    out = capsys.readouterr().out
    assert "baseline: baselines/ci.json (commit 993a5aa1f0c2" in out
    assert "FAIL: 3 of 16 benchmarks regressed (plan 1, work 1, latency 1)" in out
    assert "no baseline at" not in out


def test_verdict_reads_the_latest_results_from_the_reports_folder(
    tmp_path: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store_baseline(project, BASELINE)
    (tmp_path / "reports").mkdir()
    shutil.copyfile(REGRESSED, tmp_path / "reports" / "results.json")
    assert main(["verdict"]) == 1
    assert "FAIL: 3 of 16" in capsys.readouterr().out


def test_verdict_with_an_explicit_missing_baseline_is_an_error(tmp_path: Path) -> None:
    assert main(["verdict", RERUN, "--baseline", str(tmp_path / "typo.json")]) == 2


def test_baseline_promote_writes_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "baselines" / "ci.json"
    assert main(["baseline", "promote", RERUN, "--to", str(target)]) == 0
    assert target.read_bytes() == Path(RERUN).read_bytes()
    assert "profile 'ci'" in capsys.readouterr().out


def test_baseline_promote_defaults_to_the_results_profile(project: Path) -> None:
    assert main(["baseline", "promote", RERUN]) == 0
    assert (project / "baselines" / "ci.json").read_bytes() == Path(RERUN).read_bytes()
    assert sorted(p.name for p in (project / "baselines").iterdir()) == ["ci.json"]


def test_baseline_promote_refuses_a_corrupt_file(tmp_path: Path) -> None:
    corrupt = tmp_path / "results.json"
    corrupt.write_text("{")
    target = tmp_path / "ci.json"
    assert main(["baseline", "promote", str(corrupt), "--to", str(target)]) == 2
    assert not target.exists()


def test_baseline_promote_refuses_a_what_if_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    what_if = _variant(tmp_path, {"what_if": {"drop_indexes": ["idx_a"], "settings": {}}})
    target = tmp_path / "ci.json"
    assert main(["baseline", "promote", what_if, "--to", str(target)]) == EXIT_BAD_INPUT
    assert "what-if run" in capsys.readouterr().err
    assert not target.exists()


def test_out_of_range_measurement_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(Path(RERUN).read_text())
    data["benchmarks"][0]["extra_info"]["samples_ms"][3] = float("nan")
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(data))
    assert main(["compare", BASELINE, str(path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "samples_ms[3] is nan: a measurement must be finite, >= 0" in err


def test_a_profile_naming_a_path_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verdict", _variant(tmp_path, {"profile": "/tmp/x"})]) == EXIT_BAD_INPUT
    assert "pgperf.profile '/tmp/x' is not a profile name" in capsys.readouterr().err


# --------------------------------------------------------------------------- --json


def _verdict(baseline: str | None, results: str) -> Verdict:
    """The verdict the command gives, computed in-process from the same files."""
    base = load_results(Path(baseline), role="baseline") if baseline else None
    return judge_files(base, load_results(Path(results)), Thresholds())


def _headline(out: str) -> str:
    """The headline the terminal verdict printed (its last line before the file names)."""
    lines = [line for line in out.splitlines() if line.startswith(("PASS: ", "FAIL: "))]
    assert len(lines) == 1, out
    return lines[0]


def _failed_keys(document: dict[str, Any]) -> set[str]:
    return {b["key"] for b in document["benchmarks"] if b["status"] == "fail"}


def test_json_verdict_of_a_regression_matches_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "verdict.json"
    markdown = tmp_path / "out" / "verdict.md"
    argv = ["compare", BASELINE, REGRESSED, "--json", str(target), "--markdown", str(markdown)]
    assert main(argv) == EXIT_REGRESSION
    out = capsys.readouterr().out
    document = json.loads(target.read_text())
    assert document["format"] == "pgperf-verdict" == json_report.FORMAT
    assert document["version"] == 1 == json_report.VERSION
    assert document["failed"] is True
    assert document["headline"] == _headline(out)
    assert document["headline"] == "FAIL: 3 of 16 benchmarks regressed (plan 1, work 1, latency 1)"
    assert f"JSON verdict: {target}" in out
    assert _failed_keys(document) == REGRESSED_KEYS
    # The markdown of the same run names the same failures.
    for key in REGRESSED_KEYS:
        assert f"`{key.replace('|', chr(92) + '|')}`" in markdown.read_text()
    rules = {b["key"]: b["rule"] for b in document["benchmarks"] if b["status"] == "fail"}
    assert rules == {
        "dashboard/task_counts_30d|heavy|prepared": "plan",
        "playground/history_keyset|heavy|prepared": "work",
        "agents/search_name|median|prepared": "latency",
    }


def test_json_verdict_holds_every_benchmark_and_finding_of_the_verdict(tmp_path: Path) -> None:
    target = tmp_path / "verdict.json"
    assert main(["compare", BASELINE, REGRESSED, "--json", str(target)]) == EXIT_REGRESSION
    document = json.loads(target.read_text())
    verdict = _verdict(BASELINE, REGRESSED)
    assert [b["key"] for b in document["benchmarks"]] == [str(b.key) for b in verdict.benchmarks]
    for entry, bench in zip(document["benchmarks"], verdict.benchmarks, strict=True):
        BenchmarkKey.parse(entry["key"])  # every key reads back as a key
        assert entry["feature"] == bench.feature
        assert entry["status"] == bench.status.value
        assert entry["rule"] == (bench.rule.value if bench.rule else None)
        assert entry["reason"] == bench.reason
        assert entry["findings"] == [
            {"rule": f.rule.value, "kind": f.kind.value, "message": f.message}
            for f in bench.findings
        ]
    statuses = {b["key"]: b["status"] for b in document["benchmarks"]}
    assert statuses["agents/filter_configuration|median|prepared"] == "new"
    assert statuses["agents/own_agents|heavy|prepared"] == "missing"
    assert statuses["analytics/top_users_month|median|prepared"] == "improved"
    plan = next(b for b in document["benchmarks"] if b["rule"] == "plan")
    assert {f["message"] for f in plan["findings"] if f["kind"] == "fail"} >= {
        "new Seq Scan on tasks"
    }
    features = {f["feature"]: f for f in document["features"]}
    assert set(features) == {"dashboard", "playground", "agents", "analytics", "reports"}
    assert (features["dashboard"]["status"], features["dashboard"]["failures"]) == ("fail", 1)
    assert features["analytics"]["status"] == "improved"
    assert features["dashboard"]["budget_ms"] == 50
    assert document["thresholds"]["regression"] == pytest.approx(0.2)


def test_json_verdict_of_a_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "verdict.json"
    assert main(["compare", BASELINE, RERUN, "--json", str(target)]) == EXIT_PASS
    document = json.loads(target.read_text())
    assert document["failed"] is False
    assert document["headline"] == _headline(capsys.readouterr().out)
    assert document["headline"].startswith("PASS: 16 benchmarks")
    assert _failed_keys(document) == set()
    assert {b["status"] for b in document["benchmarks"]} == {"pass"}
    assert {b["rule"] for b in document["benchmarks"]} == {None}
    assert document["has_baseline"] is True
    assert document["latency_gates"] is True


def test_json_verdict_says_why_latency_does_not_gate(tmp_path: Path) -> None:
    target = tmp_path / "verdict.json"
    assert main(["compare", BASELINE, OTHER_MACHINE, "--json", str(target)]) == EXIT_PASS
    document = json.loads(target.read_text())
    assert document["latency_gates"] is False
    assert "another machine" in document["latency_note"]
    assert "latency information only" in document["headline"]


def test_json_verdict_follows_the_threshold_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "verdict.json"
    argv = ["compare", BASELINE, REGRESSED, "--regression-threshold", "80%", "--json", str(target)]
    assert main(argv) == EXIT_REGRESSION
    document = json.loads(target.read_text())
    assert document["headline"] == _headline(capsys.readouterr().out)
    assert _failed_keys(document) == {"dashboard/task_counts_30d|heavy|prepared"}
    assert document["thresholds"]["regression"] == pytest.approx(0.8)


def test_verdict_command_writes_json_without_a_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "verdict.json"
    markdown = tmp_path / "summary.md"
    over_budget = str(DATA / "verdict_over_budget.json")
    argv = ["verdict", over_budget, "--json", str(target), "--markdown", str(markdown)]
    assert main(argv) == EXIT_REGRESSION
    document = json.loads(target.read_text())
    assert document["has_baseline"] is False
    assert document["baseline"] is None
    assert document["headline"] == _headline(capsys.readouterr().out)
    assert _failed_keys(document) == {"dashboard/screen|heavy|page"}
    assert markdown.read_text().startswith(f"## ❌ pgperf — {document['headline']}")


def test_json_verdict_equals_the_renderer_on_the_same_verdict(tmp_path: Path) -> None:
    target = tmp_path / "verdict.json"
    main(["compare", BASELINE, REGRESSED, "--json", str(target)])
    written = json.loads(target.read_text())
    expected = json_report.verdict_json(_verdict(BASELINE, REGRESSED))
    # The command makes the origins relative to the project root; everything else is equal.
    for name in ("baseline", "results"):
        written.pop(name)
        expected.pop(name)
    assert written == json.loads(json.dumps(expected))


@pytest.mark.parametrize("option", ["--json", "--markdown"])
def test_an_unwritable_output_exits_2_before_any_verdict_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert main(["compare", BASELINE, RERUN, option, str(folder)]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert "cannot write the" in captured.err
    assert "nothing was written" in captured.err
    assert "PASS" not in captured.out
    assert list(folder.iterdir()) == []
    assert not list(tmp_path.glob(".a-folder.*"))  # no temporary file left behind
