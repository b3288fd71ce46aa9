"""The verdict as markdown for a PR comment: headline, failures first, details collapsed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pgperf.report import format_change, format_ms, rules_line, status_label
from pgperf.report.details import plan_changed
from pgperf.report.plandiff import DiffNode, diff_by_statement, new_shapes, render_text
from pgperf.verdict.findings import BenchmarkVerdict
from pgperf.verdict.verdict import Verdict

#: Plan diffs shown in a PR comment at most (the HTML report has them all).
_MAX_DIFFS = 8


def _cell(text: str) -> str:
    # Keys contain "|", which would split a table cell.
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _failure_rows(failures: Sequence[BenchmarkVerdict]) -> list[list[str]]:
    return [
        [
            b.feature,
            f"`{b.key}`",
            b.rule.value if b.rule else "",
            format_ms(b.baseline_ms),
            format_ms(b.current_ms),
            b.reason,
        ]
        for b in failures
    ]


def _benchmark_rows(benchmarks: Sequence[BenchmarkVerdict]) -> list[list[str]]:
    return [
        [
            b.feature,
            b.label,
            format_ms(b.baseline_ms),
            format_ms(b.current_ms),
            format_change(b.change),
            status_label(b.status),
            b.reason,
        ]
        for b in benchmarks
    ]


def _sides(verdict: Verdict) -> tuple[str, str]:
    """What the two sides are called: the base and head arms of an A/B, else the runs."""
    return ("base", "head") if verdict.against else ("baseline", "current")


def _presence(verdict: Verdict) -> list[str]:
    lines = []
    if verdict.new:
        keys = ", ".join(f"`{b.key}`" for b in verdict.new)
        lines.append(f"**New** (not in the baseline): {keys}")
    if verdict.missing:
        keys = ", ".join(f"`{b.key}`" for b in verdict.missing)
        lines.append(f"**Missing** (in the baseline, not measured): {keys}")
    return lines


def render_markdown(verdict: Verdict) -> str:
    """The whole PR comment: headline, failures with reasons, features, collapsed details."""
    icon = "❌" if verdict.failed else "✅"
    lines = [f"## {icon} pgperf — {verdict.headline}", "", rules_line(verdict), ""]
    if verdict.against:
        lines[2:2] = [f"**{verdict.against}**: every change with its 95% interval", ""]
    if not verdict.has_baseline:
        lines += ["> No baseline: only budgets and plans were checked (`make baseline`).", ""]
    lines += _warnings(verdict)
    if verdict.latency_note:
        lines += [f"> ⚠️ {verdict.latency_note}.", ""]
    if verdict.failures:
        header = ["feature", "benchmark", "rule", *_sides(verdict), "reason"]
        lines += ["### Failures", "", *_table(header, _failure_rows(verdict.failures)), ""]
    feature_rows = [
        [
            f.feature,
            format_ms(f.p95_ms),
            format_ms(f.budget_ms),
            format_change(f.change),
            status_label(f.status),
        ]
        for f in verdict.features
    ]
    header = ["feature", "p95 (worst)", "budget", f"change vs {_sides(verdict)[0]}", "verdict"]
    lines += ["### Features", "", *_table(header, feature_rows), ""]
    presence = _presence(verdict)
    lines += [*(f"{line}  " for line in presence), ""] if presence else []
    lines += plan_diff_sections(verdict)
    lines += _details(verdict)
    return "\n".join(lines).rstrip() + "\n"


def _warnings(verdict: Verdict) -> list[str]:
    if not verdict.warnings:
        return []
    lines = [
        "> [!WARNING]",
        "> **Results changed** — the SQL changed too; make sure the new results are intended:",
    ]
    lines += [f"> - {warning}" for warning in verdict.warnings]
    return [*lines, ""]


def plan_diff_sections(verdict: Verdict) -> list[str]:
    """A collapsed node-by-node plan diff for each benchmark whose plan changed."""
    sections: list[tuple[str, dict[str, list[DiffNode]]]] = []
    for bench in verdict.benchmarks:
        before = bench.baseline.plan if bench.baseline else None
        after = bench.current.plan if bench.current else None
        if plan_changed(bench):
            sections.append(
                (f"Plan diff: <code>{bench.key}</code>", diff_by_statement(before, after))
            )
        for shape, nodes in new_shapes(bench.current, bench.baseline):
            who = f"user {shape.user_ids[0]} and {shape.users - 1} more sampled users"
            title = f"New plan shape of <code>{bench.key}</code> for {who}"
            sections.append((f"{title}, against the baseline's most common", {"": nodes}))
    lines: list[str] = []
    for title, diffs in sections[:_MAX_DIFFS]:
        body: list[str] = []
        for name, nodes in diffs.items():
            body += [f"**{name}**", ""] if name else []
            body += ["```diff", *render_text(nodes), "```", ""]
        legend = " (~ changed, + added, - removed)"
        lines += ["<details>", f"<summary>{title}{legend}</summary>", "", *body, "</details>", ""]
    if len(sections) > _MAX_DIFFS:
        lines += [f"{len(sections) - _MAX_DIFFS} more plan diffs are in the HTML report.", ""]
    return lines


def _details(verdict: Verdict) -> list[str]:
    header = ["feature", "benchmark", *_sides(verdict), "change", "verdict", "reason"]
    origins = [f"- results: `{verdict.results_origin}`"]
    if verdict.baseline_origin:
        origins.insert(0, f"- baseline: `{verdict.baseline_origin}`")
    return [
        "<details>",
        f"<summary>All {len(verdict.benchmarks)} benchmarks (median per round)</summary>",
        "",
        *_table(header, _benchmark_rows(verdict.benchmarks)),
        "",
        *origins,
        *(f"- note: {note}" for note in verdict.notes),
        "",
        "</details>",
    ]
