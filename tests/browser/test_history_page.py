"""The history page as a reader sees it: headless Chromium, driven by Playwright.

The runs are the synthetic series of tests/unit/test_history.py (a real ci run repeated with
the A/A noise measured here) with a latency step, a work step, a plan change and an index
that fell out of use.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from pgperf.report.history_html import render_history_html
from pgperf.verdict.history import build_history, order_runs
from pgperf.verdict.results import parse_results, write_file

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
LATENCY_KEY = "playground/page|median|page"
PLAN_KEY = "dashboard/recent_tasks|heavy|prepared"


def _synth():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "history_synthetic", ROOT / "tools" / "history_synthetic.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["history_synthetic"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def history_page(browser: Browser, tmp_path: Path) -> Iterator[tuple[Page, list[str]]]:
    synth = _synth()
    fixture = json.loads(synth.FIXTURE.read_text())
    source = synth.fixture_document(fixture, fixture["runs"][0])
    steps = [
        synth.Injected(LATENCY_KEY, "median_ms", 15, 1.30),
        synth.Injected(PLAN_KEY, "plan", 26),
        synth.Injected("idx_tasks_user_created", "scans", 26),
    ]
    docs = synth.noisy_copies(source, synth.measure_noise(fixture), 30, seed=1, steps=steps)
    for i, doc in enumerate(docs):
        doc["pgperf"]["git_commit"] = f"{i + 1:02d}" + "c" * 38
    files = [parse_results(d, path=Path(f"run{i + 1:02d}.json")) for i, d in enumerate(docs)]
    runs, _ = order_runs(files, lambda _c: None)
    path = tmp_path / "history.html"
    write_file(path, render_history_html(build_history(runs), last=5), role="history page")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(path.as_uri())
    yield page, requested
    page.close()


def test_the_page_opens_on_the_recent_change_points(history_page: tuple[Page, list[str]]) -> None:
    page, _ = history_page
    recent = page.locator("table.recent")
    assert recent.is_visible()
    assert recent.bounding_box()["y"] < 900  # above the fold
    rows = recent.locator("tbody tr")
    subjects = {rows.nth(i).get_attribute("data-subject") for i in range(rows.count())}
    assert subjects == {PLAN_KEY, "idx_tasks_user_created"}  # the latency step is older
    index_row = recent.locator("tr[data-subject='idx_tasks_user_created']")
    assert "stopped being used" in index_row.inner_text()
    assert "run 27: 27cccccccc" in index_row.inner_text()
    # the older latency step is one click away
    page.locator("details summary", has_text="earlier change points").click()
    older = page.locator(f"table.older tr[data-subject='{LATENCY_KEY}']")
    assert older.is_visible()
    size = int(older.locator("td.size").inner_text().strip("+%"))
    assert 20 <= size <= 40  # the +30% injected, measured through the noise


def test_each_benchmark_has_a_chart_with_its_marks(history_page: tuple[Page, list[str]]) -> None:
    page, _ = history_page
    cards = page.locator(".card[data-key]")
    assert cards.count() == 50
    stepped = page.locator(f".card[data-key='{LATENCY_KEY}']")
    assert stepped.locator("svg.chart").bounding_box()["width"] >= 300
    assert stepped.locator("line.step").count() == 1
    assert stepped.locator("circle.run").count() == 30
    # the budget is named even when it lies far above the runs
    assert "budget" in stepped.locator("svg.chart").inner_html()
    planned = page.locator(f".card[data-key='{PLAN_KEY}']")
    assert planned.locator("path.mark.plan").count() == 1
    assert "changed" in planned.get_attribute("class")
    quiet = page.locator(".card[data-key='agents/search|any|prepared']")
    assert quiet.locator("line.step, path.mark").count() == 0


def test_index_use_over_the_runs(history_page: tuple[Page, list[str]]) -> None:
    page, _ = history_page
    row = page.locator("tr[data-index='idx_tasks_user_created']")
    assert "unused since run 27" in row.inner_text()
    assert row.locator("svg.spark path.unused").count() == 1
    assert "stopped" in row.get_attribute("class")
    # it comes first: the indexes whose use changed lead the table
    first = page.locator("table.index-history tbody tr").first
    assert first.get_attribute("data-index") == "idx_tasks_user_created"


def test_the_page_fetches_nothing_and_leaves_a_screenshot(
    history_page: tuple[Page, list[str]],
) -> None:
    page, requested = history_page
    assert len(requested) == 1
    assert requested[0].startswith("file://")
    shot = ROOT / "reports" / "history-screenshot.png"
    shot.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
