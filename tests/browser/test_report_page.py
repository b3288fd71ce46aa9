"""The HTML report as a reader sees it: rendered by headless Chromium, driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from pgperf.report.html import render_html
from pgperf.verdict.results import load_results, write_file
from pgperf.verdict.verdict import compare

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "unit" / "data"
SCREENSHOT = ROOT / "reports" / "report-screenshot.png"
CHROMIUM = "/usr/bin/chromium"
# No network, no background services: the page must render from the file alone.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FEATURES = ("dashboard", "playground", "agents", "analytics", "reports")
RED = "rgb(207, 34, 46)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _report(tmp_path: Path) -> Path:
    results = load_results(DATA / "report_results.json")
    baseline = load_results(DATA / "report_baseline.json", role="baseline")
    path = tmp_path / "report.html"
    verdict = compare(baseline, results, root=ROOT)
    write_file(path, render_html(verdict, results, baseline), role="HTML report")
    return path


@pytest.fixture
def failing_page(browser: Browser, tmp_path: Path) -> Iterator[tuple[Page, list[str]]]:
    """The failing report open in a 1280-wide page, with every URL the page asked for."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(_report(tmp_path).as_uri())
    yield page, requested
    page.close()


def test_every_feature_is_shown_with_its_chart(failing_page: tuple[Page, list[str]]) -> None:
    page, _ = failing_page
    for feature in FEATURES:
        section = page.locator(f"section[data-feature='{feature}']")
        assert section.is_visible()
        assert section.locator("h3").inner_text().startswith(feature)
        # Against a baseline, each feature's chart is its forest plot of median changes.
        assert section.locator("svg.forest").bounding_box()["width"] > 300
        # The benchmark table fits a laptop-wide window: nothing hides behind a scrollbar.
        assert section.locator(".scroll").evaluate("e => e.scrollWidth - e.clientWidth") == 0


def test_failing_verdict_is_rendered_as_failing(failing_page: tuple[Page, list[str]]) -> None:
    page, _ = failing_page
    banner = page.locator("#verdict")
    assert banner.inner_text().startswith("FAIL: 3 of 14 benchmarks regressed")
    assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == RED
    assert page.locator("table.failures tbody tr").count() == 3
    dashboard = page.locator("section[data-feature='dashboard']")
    assert dashboard.locator("h3 .badge").inner_text() == "FAIL"
    failed = dashboard.locator("svg.forest circle.s-fail")
    assert failed.count() == 1
    assert failed.evaluate("e => getComputedStyle(e).fill") == RED
    # The dashed threshold lines are drawn on both sides of no change.
    assert dashboard.locator("svg.forest line.threshold").count() == 2


def test_plan_change_and_unused_indexes_stand_out(failing_page: tuple[Page, list[str]]) -> None:
    page, _ = failing_page
    cell = page.locator("tr.plan-change td.plan")
    assert cell.count() == 1
    assert "plan changed" in cell.inner_text()
    assert cell.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 241, 194)"
    unused = page.locator("table.index-usage tr.unused")
    assert unused.count() == 3
    assert "agents_marketplace_idx" in unused.all_inner_texts()[0]


def test_page_fetches_nothing_and_leaves_a_screenshot(
    failing_page: tuple[Page, list[str]],
) -> None:
    page, requested = failing_page
    assert len(requested) == 1
    assert requested[0].startswith("file://")
    assert page.evaluate("performance.getEntriesByType('resource').length") == 0
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert SCREENSHOT.stat().st_size > 20_000


def test_without_a_baseline_the_p95_bars_show_the_budget(browser: Browser, tmp_path: Path) -> None:
    results = load_results(DATA / "report_results.json")
    path = tmp_path / "report.html"
    write_file(path, render_html(compare(None, results), results, None), role="HTML report")
    page = browser.new_page()
    page.goto(path.as_uri())
    dashboard = page.locator("section[data-feature='dashboard']")
    over = dashboard.locator("svg.chart rect.over")
    assert over.count() == 1
    assert over.evaluate("e => getComputedStyle(e).fill") == RED
    page.close()


def test_passing_verdict_is_rendered_as_passing(browser: Browser, tmp_path: Path) -> None:
    results = load_results(DATA / "report_baseline.json")
    path = tmp_path / "report.html"
    write_file(path, render_html(compare(results, results), results, results), role="HTML report")
    page = browser.new_page()
    page.goto(path.as_uri())
    banner = page.locator("#verdict")
    assert banner.inner_text().startswith("PASS: 14 benchmarks")
    assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(26, 127, 55)"
    assert page.locator("table.failures").count() == 0
    page.close()
