"""`pgperf compare`, `pgperf verdict` and `pgperf baseline promote`: exit codes, files, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pgperf import gate
from pgperf.cli import main
from pgperf.config import ENV_VARS

DATA = Path(__file__).parent / "data"
BASELINE = str(DATA / "verdict_baseline.json")
RERUN = str(DATA / "verdict_rerun.json")
REGRESSED = str(DATA / "verdict_regressed.json")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PGPERF_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("COLUMNS", "200")


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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(gate, "default_baseline_path", lambda root, profile: tmp_path / "no.json")
    assert main(["verdict", RERUN]) == 0
    out = capsys.readouterr().out
    assert "no baseline at" in out
    assert "make baseline" in out
    assert (tmp_path / "reports" / "verdict.md").exists()


def test_verdict_without_baseline_still_gates_budgets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate, "default_baseline_path", lambda root, profile: tmp_path / "no.json")
    assert main(["verdict", str(DATA / "verdict_over_budget.json")]) == 1


def test_verdict_uses_the_profiles_stored_baseline(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[str] = []

    def stored(root: Path, profile: str) -> Path:
        seen.append(profile)
        return Path(BASELINE)

    monkeypatch.setattr(gate, "default_baseline_path", stored)
    assert main(["verdict", REGRESSED]) == 1
    assert seen == ["ci"]
    assert "against the baseline" not in capsys.readouterr().out  # it failed


def test_verdict_with_an_explicit_missing_baseline_is_an_error(tmp_path: Path) -> None:
    assert main(["verdict", RERUN, "--baseline", str(tmp_path / "typo.json")]) == 2


def test_baseline_promote_writes_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "baselines" / "ci.json"
    assert main(["baseline", "promote", RERUN, "--to", str(target)]) == 0
    assert target.read_bytes() == Path(RERUN).read_bytes()
    assert "profile 'ci'" in capsys.readouterr().out


def test_baseline_promote_defaults_to_the_results_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        gate, "default_baseline_path", lambda root, profile: tmp_path / f"{profile}.json"
    )
    assert main(["baseline", "promote", RERUN]) == 0
    assert (tmp_path / "ci.json").exists()


def test_baseline_promote_refuses_a_corrupt_file(tmp_path: Path) -> None:
    corrupt = tmp_path / "results.json"
    corrupt.write_text("{")
    target = tmp_path / "ci.json"
    assert main(["baseline", "promote", str(corrupt), "--to", str(target)]) == 2
    assert not target.exists()
