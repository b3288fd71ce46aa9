"""The history as one self-contained HTML page: the change points first, then a chart per
benchmark, the indexes' use over the runs, and the runs themselves.

Same rules as the report page (pgperf.report.html): inline CSS and SVG, every value escaped,
a Content-Security-Policy that forbids any fetch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby

from pgperf.report import format_ms
from pgperf.report.history_chart import describe, latency_chart, level_chart, scans_sparkline
from pgperf.report.htmlparts import CSP, html_table
from pgperf.report.htmlparts import esc as _e
from pgperf.verdict.history import WHOLE_RUN, BenchmarkSeries, ChangePoint, History, IndexSeries

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1180px;margin:0 auto;padding:20px 28px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}
h3{font-size:16px;margin:0 0 8px}
h4{font-size:13px;margin:0 0 2px;font-weight:600}
.muted{color:#59636e}.small{font-size:12px}
.note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px;margin:8px 0}
.calm{background:#dafbe1;border:1px solid #1a7f37;border-radius:6px;padding:8px 12px;margin:8px 0}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 10px}
th,td{border:1px solid #d1d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}td.num{text-align:right;white-space:nowrap}
tr.worse td.size{color:#a40e26;font-weight:700}tr.better td.size{color:#0550ae;font-weight:700}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;
 background:#ffebe9;color:#a40e26;border:1px solid #cf222e}
.feature{background:#fff;border:1px solid #d1d9e0;border-radius:8px;padding:14px 16px;margin:14px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(372px,1fr));gap:10px}
.card{border:1px solid #d1d9e0;border-radius:6px;padding:6px 6px 2px}
.card.changed{border-color:#cf222e;box-shadow:0 0 0 1px #cf222e}
svg.chart{font:10px system-ui,sans-serif;fill:#59636e;display:block}
svg .median{fill:none;stroke:#0969da;stroke-width:1.6}
svg .p95{fill:none;stroke:#9ecbff;stroke-width:1.2}
svg circle.run{fill:#0969da}svg .axis{stroke:#8c959f}
svg .budget{stroke:#1f2328;stroke-dasharray:4 3}svg .budget-label,svg .budget-off{fill:#1f2328}
svg .step{stroke:#cf222e;stroke-width:2}
svg.spark .used{fill:#2da44e}svg.spark .unused{fill:#cf222e}
tr.stopped td{background:#fff5f5}code{font-size:12px}
"""


def _runs_line(history: History) -> str:
    first, last = history.runs[0], history.runs[-1]
    d = history.detection
    return (
        f'<div class="muted small">{len(history.runs)} runs of profile {_e(history.profile)}, '
        f"from {_e(first.label)} ({_e(first.created_at[:10])}) to {_e(last.label)} "
        f"({_e(last.created_at[:10])}), in commit order</div>"
        f'<div class="muted small">latency change points: Apache Otava (E-divisive means), '
        f"p &lt; {d.max_pvalue:g}, steps of {d.min_change:.0%} or more that held {d.hold} runs, "
        f"each run divided by its run level · work: a move beyond {d.work_tolerance:.0%} "
        f"(and {d.work_floor:g}) of its level · rows, plans, index use: any change</div>"
    )


def _skipped(history: History) -> str:
    return "".join(
        f'<div class="note">left out: {_e(s.path)}: {_e(s.reason)}</div>' for s in history.skipped
    )


def _subject(point: ChangePoint) -> str:
    if point.kind == "index":
        return f"index <code>{_e(point.subject)}</code>"
    if point.subject == WHOLE_RUN:
        return "every benchmark (the run level)"
    return f'<a href="#b-{_e(point.subject)}">{_e(point.subject)}</a>'


def _change_row(point: ChangePoint, history: History) -> str:
    run = history.runs[point.position]
    worse = point.change is not None and point.change > 0 and point.metric != "scans"
    better = point.change is not None and point.change < 0 and point.metric != "scans"
    css = "worse" if worse else "better" if better else ""
    p = f"{point.pvalue:.1e}" if point.pvalue is not None else "exact"
    new = ' <span class="badge">new</span>' if point.new else ""
    return (
        f'<tr class="{css}" data-subject="{_e(point.subject)}" data-metric="{_e(point.metric)}" '
        f'data-position="{point.position}"><td>{_subject(point)}{new}</td>'
        f"<td>{_e(point.kind)}</td><td>{_e(describe(point).split(' at ', 1)[0])}</td>"
        f'<td class="num size">{_e(_size(point))}</td>'
        f"<td>run {point.position + 1}: <code>{_e(run.label)}</code> "
        f'{_e(run.created_at[:10])}</td><td class="num">{_e(p)}</td></tr>'
    )


def _size(point: ChangePoint) -> str:
    if point.kind == "index":
        return "stopped being used" if point.after == 0 else "used again"
    if point.change is None:
        return "changed"
    return f"{point.change:+.0%}"


def _changetable(points: Sequence[ChangePoint], history: History, *, css: str) -> str:
    header = ["series", "kind", "what", "size", "first run after it", "p"]
    return html_table(header, (_change_row(p, history) for p in points), css=css)


def _recent(history: History, last: int) -> str:
    recent = history.recent(last)
    head = f'<h2 id="recent">Change points in the last {min(last, len(history.runs))} runs</h2>'
    if not recent:
        return head + '<div class="calm">No change point in these runs.</div>'
    return head + _changetable(recent, history, css="recent")


def _all(history: History, last: int) -> str:
    older = [p for p in history.change_points if p not in history.recent(last)]
    if not older:
        return ""
    table = _changetable(older, history, css="older")
    return f"<details><summary>{len(older)} earlier change points</summary>{table}</details>"


def _card(series: BenchmarkSeries, history: History) -> str:
    key = str(series.key)
    points = [p for p in history.change_points if p.subject == key]
    chart = latency_chart(
        series.key.label,
        history.runs,
        median=series.values.get("median_ms", ()),
        p95=series.values.get("p95_ms", ()),
        budget=series.budget_ms,
        points=points,
    )
    recent = set(history.recent(len(history.runs))) & set(points)
    latest = [v for v in series.values.get("median_ms", ()) if v is not None]
    buffers = [v for v in series.values.get("buffers", ()) if v is not None]
    uses = next((u for u in reversed(series.plan_uses) if u is not None), "")
    facts = f"median {format_ms(latest[-1]) if latest else '-'}"
    facts += f" · buffers {buffers[-1]:,.0f}" if buffers else ""
    return (
        f'<div class="card{" changed" if recent else ""}" id="b-{_e(key)}" data-key="{_e(key)}">'
        f"<h4>{_e(series.key.label)}</h4>{chart}"
        f'<div class="muted small">{_e(facts)} · {_e(uses)}</div></div>'
    )


def _features(history: History) -> str:
    sections = []
    for feature, group in groupby(history.benchmarks, key=lambda b: b.key.feature):
        cards = "".join(_card(b, history) for b in group)
        budget = next((b.budget_ms for b in history.benchmarks if b.key.feature == feature), None)
        sections.append(
            f'<section class="feature" data-feature="{_e(feature)}" id="f-{_e(feature)}">'
            f'<h3>{_e(feature)} <span class="muted small">budget {_e(format_ms(budget))}</span>'
            f'</h3><div class="cards">{cards}</div></section>'
        )
    legend = (
        '<div class="muted small">dark line and dots: median · light: p95 · dashed: the '
        "feature's budget · red line: a latency change point, before its first run · "
        "triangles under a run: purple the plan changed, orange the work, grey the rows "
        "(hover any mark)</div>"
    )
    return f'<h2 id="benchmarks">Per benchmark</h2>{legend}{"".join(sections)}'


def _level(history: History) -> str:
    points = [p for p in history.change_points if p.subject == WHOLE_RUN]
    chart = level_chart(history.runs, history.run_level, points)
    return (
        f'<h2 id="level">The runs as a whole</h2><div class="card">{chart}</div>'
        '<div class="muted small">per run, the median over its benchmarks of each one\'s median '
        "relative to its own series: 1.0 for a run like the others. The benchmarks' series "
        "are judged relative to this, so a faster or slower machine moves this line, not "
        "theirs.</div>"
    )


def _index_row(series: IndexSeries, history: History) -> str:
    points = [p for p in history.change_points if p.kind == "index" and p.subject == series.index]
    known = [s for s in series.scans if s is not None]
    last = known[-1] if known else None
    stopped = last == 0 and any(s for s in known)
    since = ""
    if points:
        run = history.runs[points[-1].position]
        since = (
            f"{'unused' if last == 0 else 'used'} since run {points[-1].position + 1} ({run.label})"
        )
    state = since or ("never used" if not any(known) else "used in every run")
    return (
        f'<tr class="{"stopped" if stopped else ""}" data-index="{_e(series.index)}">'
        f"<td><code>{_e(series.index)}</code></td><td>{_e(series.table)}</td>"
        f"<td>{scans_sparkline(series.scans)}</td>"
        f'<td class="num">{"-" if last is None else f"{last:,}"}</td><td>{_e(state)}</td></tr>'
    )


def _indexes(history: History) -> str:
    if not history.indexes:
        return '<h2 id="indexes">Index use</h2><p class="muted">not recorded in these runs</p>'
    # Indexes whose use changed first, then the used ones; the never-used are folded away.
    ordered = sorted(history.indexes, key=lambda s: (not _changed(s, history), s.table, s.index))
    used = [s for s in ordered if any(s.scans)]
    never = [s for s in ordered if not any(s.scans)]
    header = ["index", "table", "scans per run", "last run", ""]
    table = html_table(header, (_index_row(s, history) for s in used), css="index-history")
    folded = html_table(header, (_index_row(s, history) for s in never), css="index-never")
    return (
        f'<h2 id="indexes">Index use</h2>{table}'
        f"<details><summary>{len(never)} indexes no benchmark used in any run</summary>"
        f"{folded}</details>"
    )


def _changed(series: IndexSeries, history: History) -> bool:
    return any(p.kind == "index" and p.subject == series.index for p in history.change_points)


def _runs(history: History) -> str:
    rows: Iterable[str] = (
        f'<tr><td class="num">{i + 1}</td><td><code>{_e(r.commit or "-")}</code></td>'
        f"<td>{_e(r.when.isoformat()[:16])}</td><td>{_e(r.created_at[:16])}</td>"
        f"<td>{_e(r.results.meta.machine.fingerprint)}</td><td>{_e(r.results.path)}</td></tr>"
        for i, r in enumerate(history.runs)
    )
    header = ["run", "commit", "ordered by", "measured", "machine", "file"]
    return f'<h2 id="runs">Runs</h2><div>{html_table(header, rows, css="runs")}</div>'


def render_history_html(history: History, *, last: int) -> str:
    """The whole history page; it opens on the change points of the last ``last`` runs."""
    title = f"pgperf history: {history.profile}"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>{_runs_line(history)}{_skipped(history)}"
        f"{_recent(history, last)}{_all(history, last)}{_level(history)}{_features(history)}"
        f"{_indexes(history)}{_runs(history)}</main></body></html>\n"
    )
