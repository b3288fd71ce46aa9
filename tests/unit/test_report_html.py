"""The HTML report: what the page says about a verdict, its escaping, and `pgperf report`."""

from __future__ import annotations

import dataclasses
import re
import stat
from pathlib import Path

import pytest

from pgperf.cli import main
from pgperf.compare import compare
from pgperf.report.html import plan_changed, render_html, write_html
from pgperf.results import ResultsFile, load_results

DATA = Path(__file__).parent / "data"
RESULTS = DATA / "report_results.json"
BASELINE = DATA / "report_baseline.json"
FEATURES = ("dashboard", "playground", "agents", "analytics", "reports")


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
    over_bars = re.findall(r'<rect class="over"[^>]*fill="#cf222e"', page)
    assert len(over_bars) == 1
    features = re.search(r'<table class="features">.*?</table>', page)
    assert features
    assert re.findall(r'<td class="num over">([^<]*)</td>', features.group(0)) == ["66.6 ms"]


def test_baseline_against_current_and_buffers(page: str) -> None:
    row = _row(page, "playground/history_keyset|heavy|prepared")
    assert "310 → 449 (+45%)" in row
    assert "4.22 ms → 4.29 ms" in row


def test_plan_change_is_highlighted_with_both_plans(page: str) -> None:
    row = _row(page, "agents/marketplace_by_category|any|prepared")
    assert "plan-change" in row
    assert "<strong>plan changed</strong>: was agents_marketplace_idx, now no index" in row
    assert "plan of marketplace_by_category · any · prepared: baseline and current" in page
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
    bench = dataclasses.replace(results.benchmarks[0], query=evil, key=f"dashboard/{evil}|a|b")
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
    assert changed == {"agents/marketplace_by_category|any|prepared"}
    alone = compare(None, results)
    assert not any(plan_changed(v) for v in alone.benchmarks)


def test_write_html_replaces_the_file_and_leaves_it_readable(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    assert write_html(target, "<p>é</p>") == len("<p>é</p>".encode())
    write_html(target, "<p>second</p>")
    assert target.read_text(encoding="utf-8") == "<p>second</p>"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


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


def test_cli_report_uses_the_stored_baseline_of_the_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def stored(root: Path, profile: str) -> Path:
        asked.append(profile)
        return BASELINE

    monkeypatch.setattr("pgperf.results.default_baseline_path", stored)
    monkeypatch.delenv("PGPERF_BASELINE", raising=False)
    out = tmp_path / "report.html"
    assert main(["report", str(RESULTS), "-o", str(out)]) == 0
    assert asked == ["ci"]
    assert "FAIL: 3 of 14" in out.read_text(encoding="utf-8")


def test_cli_report_without_any_baseline_judges_budgets_and_plans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pgperf.results.default_baseline_path", lambda r, p: tmp_path / "no.json")
    monkeypatch.delenv("PGPERF_BASELINE", raising=False)
    out = tmp_path / "report.html"
    assert main(["report", str(RESULTS), "-o", str(out)]) == 0
    assert "No baseline" in out.read_text(encoding="utf-8")
