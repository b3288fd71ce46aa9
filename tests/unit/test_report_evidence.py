"""The evidence in the reports: result warnings first, plan diffs, users' plan shapes, estimates
(markdown, HTML, JSON and terminal on the recorded ci runs of tests/unit/data/evidence_*)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from pgperf.report.html import render_html
from pgperf.report.json_report import render_json
from pgperf.report.markdown import render_markdown
from pgperf.report.terminal import print_verdict
from pgperf.verdict.record import ResultsFile
from pgperf.verdict.results import load_results
from pgperf.verdict.verdict import Verdict, compare

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def baseline() -> ResultsFile:
    """The recorded baseline."""
    return load_results(DATA / "evidence_baseline.json")


def _verdict(baseline: ResultsFile, name: str) -> tuple[Verdict, ResultsFile]:
    results = load_results(DATA / f"evidence_{name}.json")
    return compare(baseline, results), results


def test_changed_results_head_the_pr_comment(baseline: ResultsFile) -> None:
    verdict, _ = _verdict(baseline, "limit5")
    markdown = render_markdown(verdict)
    head, _, rest = markdown.partition("### Features")
    assert rest, markdown
    assert "> [!WARNING]" in head
    assert "> - recent_tasks · heavy: 20 → 5 rows" in head
    assert "> - dashboard page · heavy: recent_tasks 20 → 5 rows" in head
    assert head.index("[!WARNING]") < head.index("profile ci") + 200
    assert json.loads(render_json(verdict))["warnings"] == list(verdict.warnings)


def test_changed_results_come_before_the_headline_in_the_terminal(baseline: ResultsFile) -> None:
    verdict, _ = _verdict(baseline, "limit5")
    console = Console(width=200, record=True)
    print_verdict(verdict, console=console)
    lines = console.export_text().splitlines()
    warnings = [i for i, line in enumerate(lines) if line.startswith("warning: result changed")]
    assert len(warnings) == 4
    assert lines[-1].startswith("PASS:")
    assert "4 result(s) changed" in lines[-1]


def test_the_html_shows_the_warnings_under_the_banner(baseline: ResultsFile) -> None:
    verdict, results = _verdict(baseline, "limit5")
    page = render_html(verdict, results, baseline)
    banner = page.index('id="verdict"')
    box = page.index('<div class="warning" id="warnings">')
    assert banner < box < page.index("<h2>Features</h2>")
    assert "recent_tasks · heavy: 20 → 5 rows" in page[box:]
    assert 'class="badge s-warning">WARNING<' in page


def test_a_spill_is_a_folded_node_by_node_plan_diff(baseline: ResultsFile) -> None:
    verdict, results = _verdict(baseline, "spill")
    markdown = render_markdown(verdict)
    section = re.search(
        r"<details>\n<summary>Plan diff: <code>reports/monthly_by_tier_provider\|any\|prepared"
        r"</code>.*?</details>",
        markdown,
        re.DOTALL,
    )
    assert section, markdown
    body = section.group(0)
    assert "```diff" in body
    spilled = [line for line in body.splitlines() if "now spills to disk" in line]
    assert any(line.startswith("~ ") and "Sort by " in line for line in spilled)
    assert any("Hash for (t.user_id = u.id)" in line and "8 batches" in line for line in spilled)
    # Unchanged nodes are there too, with their rows and buffers.
    assert re.search(r"Index Only Scan using idx_tasks_month_provider on tasks t +\(rows ", body)
    page = render_html(verdict, results, baseline)
    assert page.count('<details class="plan-diff"') >= 3
    assert '<tr class="d-changed">' in page
    assert "now spills to disk: 8 batches" in page


def test_a_new_users_plan_shape_is_shown_and_diffed(baseline: ResultsFile) -> None:
    verdict, results = _verdict(baseline, "census")
    markdown = render_markdown(verdict)
    assert "New plan shape of <code>dashboard/recent_tasks|median|prepared</code> for user" in (
        markdown
    )
    assert re.search(
        r"~ +Index Scan using idx_tasks_user_created on tasks → Index Scan using "
        r"whatif_tasks_some_users on tasks",
        markdown,
    )
    page = render_html(verdict, results, baseline)
    shapes = re.search(
        r'<details class="user-plans" data-key="dashboard/recent_tasks\|median\|prepared">.*?'
        r"</details>",
        page,
        re.DOTALL,
    )
    assert shapes
    assert '<tr class="bad-shape">' in shapes.group(0)
    assert " (new)</td>" in shapes.group(0)
    assert '<table class="plandiff">' in shapes.group(0)


def test_estimates_off_tenfold_are_listed_in_the_html(baseline: ResultsFile) -> None:
    verdict = compare(None, baseline)
    page = render_html(verdict, baseline, None)
    off = [b for b in baseline.benchmarks if b.misestimates]
    assert off, "the recorded baseline has misestimated nodes (analytics/campaign_metrics)"
    assert '<details class="estimates">' in page
    assert off[0].misestimates[0].split(":")[0] in page
