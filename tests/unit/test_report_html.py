"""The HTML report: what the page says about a verdict, its escaping, and `pgperf report`."""

from __future__ import annotations

import dataclasses
import re
import shutil
import stat
from pathlib import Path

import pytest

from pgperf.commands.cli import main
from pgperf.config import SETTINGS
from pgperf.errors import ResultsFileError
from pgperf.report.html import plan_changed, render_html
from pgperf.verdict.record import BenchmarkKey, ResultsFile
from pgperf.verdict.results import load_results, write_file
from pgperf.verdict.verdict import compare

DATA = Path(__file__).parent / "data"
RESULTS = DATA / "report_results.json"
BASELINE = DATA / "report_baseline.json"
FEATURES = ("dashboard", "playground", "agents", "analytics", "reports")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The project root `pgperf report` sees: one without any stored baseline yet."""
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, project: Path) -> None:
    for row in SETTINGS:
        monkeypatch.delenv(row.env, raising=False)
    # Not this checkout's root, whose committed baselines/ci.json would be judged against.
    monkeypatch.setenv("PGPERF_PROJECT_ROOT", str(project))


@pytest.fixture(scope="module")
def results() -> ResultsFile:
    return load_results(RESULTS)


@pytest.fixture(scope="module")
def baseline() -> ResultsFile:
    return load_results(BASELINE, role="baseline")


@pytest.fixture(scope="module")
def page(results: ResultsFile, baseline: ResultsFile) -> str:
    return render_html(compare(baseline, results), results, baseline)


def _body(page: str) -> str:
    """The page without its head (whose CSS names every class)."""
    return page.split("<body>", 1)[1]


def _row(page: str, key: str) -> str:
    match = re.search(rf'<tr class="([^"]*)" data-key="{re.escape(key)}">(.*?)</tr>', page)
    assert match, f"no row for {key}"
    return match.group(0)


def test_every_feature_has_a_section_with_a_chart(page: str) -> None:
    for feature in FEATURES:
        section = re.search(
            rf'<section class="feature \w+" id="f-{feature}".*?</section>', page, re.S
        )
        assert section, feature
        assert "<svg" in section.group(0)
        assert "budget" in section.group(0)


def test_failing_verdict_is_the_banner_and_lists_each_failure(page: str) -> None:
    assert '<div class="banner fail" id="verdict">FAIL: 3 of 14 benchmarks' in page
    failures = re.search(r'<table class="failures">.*?</table>', page)
    assert failures
    for query in ("marketplace_by_category", "task_counts_30d", "history_keyset"):
        assert query in failures.group(0)


def test_budget_breach_is_drawn_red_and_the_row_marked_failed(page: str) -> None:
    row = _row(page, "dashboard/task_counts_30d|heavy|prepared")
    assert 'class="failed"' in row
    assert "66.6 ms / 50.0 ms" in row
    assert "over the 50 ms budget" in row
    # Against a baseline each feature draws its forest plot: the failed benchmarks are red.
    failed_dots = re.findall(r'<circle class="change s-fail"[^>]*fill="#cf222e"', page)
    assert len(failed_dots) == 3
    features = re.search(r'<table class="features">.*?</table>', page)
    assert features
    assert re.findall(r'<td class="num over">([^<]*)</td>', features.group(0)) == ["66.6 ms"]


def test_without_a_baseline_the_p95_bars_show_the_budget_breach(results: ResultsFile) -> None:
    page = render_html(compare(None, results), results, None)
    over_bars = re.findall(r'<rect class="over"[^>]*fill="#cf222e"', page)
    assert len(over_bars) == 1
    assert "forest" not in _body(page)


def test_forest_plot_marks_zero_and_the_threshold(page: str) -> None:
    section = re.search(r'<section class="feature \w+" id="f-dashboard".*?</section>', page, re.S)
    assert section
    plot = section.group(0)
    assert '<svg class="forest"' in plot
    assert plot.count('class="threshold"') == 2
    assert ">+20%</text>" in plot
    assert ">-20%</text>" in plot
    assert 'class="zero"' in plot


def test_baseline_against_current_and_buffers(page: str) -> None:
    row = _row(page, "playground/history_keyset|heavy|prepared")
    assert "310 → 449 (+45%)" in row
    assert "4.22 ms → 4.29 ms" in row


def test_plan_change_is_highlighted_with_both_plans(page: str) -> None:
    row = _row(page, "agents/marketplace_by_category|any|prepared")
    assert "plan-change" in row
    assert "<strong>plan changed</strong>: was agents_marketplace_idx, now no index" in row
    # The two plans as one node-by-node diff, not two JSON documents side by side.
    assert "plan diff of marketplace_by_category · any · prepared: baseline → current" in page
    diff = re.search(r'<details class="plan-diff"[^>]*marketplace_by_category.*?</details>', page)
    assert diff, "no plan diff for the changed plan"
    assert '<tr class="d-changed">' in diff.group(0)
    assert "Index Scan using agents_marketplace_idx → Seq Scan on agents" in diff.group(0)
    assert "&quot;Node Type&quot;" not in page
    unchanged = _row(page, "agents/search_name|any|prepared")
    assert "plan-change" not in unchanged


def test_index_usage_lists_unused_indexes_first(page: str) -> None:
    table = re.search(r'<table class="index-usage">.*?</table>', page)
    assert table
    rows = re.findall(r'<tr class="(unused|used)">', table.group(0))
    assert rows == ["unused"] * 3 + ["used"] * 5
    assert "3 of 8 indexes unused by the benchmarks (11.8 MB)" in page


def test_environment_shows_backend_server_profile_and_machine(page: str) -> None:
    env = re.search(r'<table class="environment">.*?</table>', page)
    assert env
    for text in ("docker", "15.18 (major 15)", "ci (seed 42)", "AMD EPYC 7763", "2 cores"):
        assert text in env.group(0)


def test_page_is_self_contained(page: str) -> None:
    assert "Content-Security-Policy" in page
    assert "default-src &#x27;none&#x27;" in page
    for external in ("http://", "https://", "<script", "<link", "src=", "@import", "url("):
        assert external not in page


def test_every_value_is_escaped(results: ResultsFile) -> None:
    evil = "<script>alert('x')</script>"
    bench = dataclasses.replace(
        results.benchmarks[0], key=BenchmarkKey("dashboard", evil, "a", "b")
    )
    meta = dataclasses.replace(results.meta, backend=evil)
    tampered = dataclasses.replace(results, meta=meta, benchmarks=(bench, *results.benchmarks[1:]))
    page = render_html(compare(None, tampered), tampered, None)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_without_a_baseline_the_page_says_so(results: ResultsFile) -> None:
    page = _body(render_html(compare(None, results), results, None))
    assert "No baseline: only budgets and plans were checked." in page
    assert "plan-change" not in page
    assert "baseline: none" in page
    # Budget and plan still gate without a baseline.
    assert '<div class="banner fail" id="verdict">FAIL: 2 of 14' in page


def test_a_passing_verdict_renders_as_passing(baseline: ResultsFile) -> None:
    page = _body(render_html(compare(baseline, baseline), baseline, baseline))
    assert '<div class="banner pass" id="verdict">PASS: 14 benchmarks' in page
    assert "What failed" not in page
    assert "s-fail" not in page


def test_plan_changed_needs_both_sides(results: ResultsFile, baseline: ResultsFile) -> None:
    verdict = compare(baseline, results)
    changed = {v.key for v in verdict.benchmarks if plan_changed(v)}
    assert changed == {BenchmarkKey.parse("agents/marketplace_by_category|any|prepared")}
    alone = compare(None, results)
    assert not any(plan_changed(v) for v in alone.benchmarks)


def test_write_file_replaces_the_page_and_leaves_it_readable(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    assert write_file(target, "<p>é</p>", role="HTML report") == len("<p>é</p>".encode())
    write_file(target, "<p>second</p>", role="HTML report")
    assert target.read_text(encoding="utf-8") == "<p>second</p>"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_write_file_onto_a_folder_names_the_report(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    (folder / "report.html").mkdir(parents=True)
    with pytest.raises(
        ResultsFileError, match=r"cannot write the HTML report .*nothing was written"
    ):
        write_file(folder / "report.html", "<p>x</p>", role="HTML report")
    assert [p.name for p in folder.iterdir()] == ["report.html"]  # no temporary file left


def test_cli_report_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    argv = ["report", str(RESULTS), "--baseline", str(BASELINE), "-o", str(out)]
    assert main(argv) == 0
    assert "FAIL: 3 of 14" in out.read_text(encoding="utf-8")
    assert f"HTML report: {out}" in capsys.readouterr().out


def test_cli_report_thresholds_change_the_verdict(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    argv = ["report", str(RESULTS), "--baseline", str(BASELINE), "-o", str(out)]
    assert main([*argv, "--regression-threshold", "50%"]) == 0
    assert "FAIL: 2 of 14" in out.read_text(encoding="utf-8")


def test_cli_report_on_a_missing_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path / "nope.json"), "-o", str(tmp_path / "r.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_cli_report_names_a_missing_baseline_as_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    argv = ["report", str(RESULTS), "--baseline", str(tmp_path / "gone.json"), "-o", str(out)]
    assert main(argv) == 2
    assert "baseline" in capsys.readouterr().err
    assert not out.exists()


def test_cli_report_uses_the_stored_baseline_of_the_profile(tmp_path: Path, project: Path) -> None:
    (project / "baselines").mkdir()
    shutil.copyfile(BASELINE, project / "baselines" / "ci.json")
    (project / "baselines" / "default.json").write_text("not the ci baseline")
    out = tmp_path / "report.html"
    assert main(["report", str(RESULTS), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "FAIL: 3 of 14" in page
    assert "baseline: baselines/ci.json (commit " in page


def test_cli_report_without_any_baseline_judges_budgets_and_plans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(RESULTS), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "No baseline" in page
    assert "FAIL: 2 of 14" in page
    assert "no baseline at" in capsys.readouterr().out


def test_cli_report_defaults_to_the_reports_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPERF_REPORTS_DIR", str(tmp_path / "reports"))
    assert main(["report", str(RESULTS), "--baseline", str(BASELINE)]) == 0
    assert "FAIL: 3 of 14" in (tmp_path / "reports" / "report.html").read_text(encoding="utf-8")
