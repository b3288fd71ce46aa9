"""The small charts of the history page: a benchmark's latency over the runs, an index's scans.

Inline SVG only (the page's CSP forbids scripts and fetches). A latency chart draws the
median (dark, with a dot per run) and the p95 (light) on a linear scale from 0, the feature's
budget as a dashed line (named at the top when it lies far above the runs), a red line
before the first run of each latency change point, and a marker under each run where the
plan, the work or the rows changed. Every mark has a <title>: hovering it says what it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from pgperf.report import format_change, format_ms
from pgperf.report.htmlparts import esc as _e
from pgperf.verdict.history import ChangePoint, Run

# Geometry (px): plot area inside the margins.
_W, _H = 360, 132
_LEFT, _RIGHT, _TOP, _BOTTOM = 46, 8, 14, 30
# A budget further above the slowest run than this is named, not drawn: the runs would
# otherwise be squashed into the bottom few pixels.
_BUDGET_REACH = 3.0
_MARKS = {
    "plan": ("#8250df", "plan changed"),
    "work": ("#bc4c00", "work changed"),
    "rows": ("#57606a", "rows changed"),
}


def _x(position: int, runs: int) -> float:
    span = _W - _LEFT - _RIGHT
    return _LEFT + (span * position / (runs - 1) if runs > 1 else span / 2)


def _y(value: float, top: float) -> float:
    span = _H - _TOP - _BOTTOM
    return _TOP + span * (1 - min(value, top) / top)


def _line(values: Sequence[float | None], top: float, *, css: str) -> str:
    """A polyline per stretch of runs that have a value (a missing run breaks the line)."""
    stretches: list[list[str]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            stretches.append([])
        else:
            stretches[-1].append(f"{_x(i, len(values)):.1f},{_y(value, top):.1f}")
    return "".join(
        f'<polyline class="{css}" points="{" ".join(s)}"/>' for s in stretches if len(s) > 1
    )


def _dots(values: Sequence[float | None], runs: Sequence[Run], top: float) -> str:
    return "".join(
        f'<circle class="run" cx="{_x(i, len(values)):.1f}" cy="{_y(v, top):.1f}" r="2">'
        f"<title>run {i + 1}: {_e(format_ms(v))}</title></circle>"
        for i, v in enumerate(values)
        if v is not None
    )


def _count(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:.3g}"


def describe(point: ChangePoint) -> str:
    """One line for a change point: what, from what to what, where."""
    what = {"median_ms": "median", "p95_ms": "p95", "level": "run level"}.get(
        point.metric, point.metric
    )
    where = f"{point.commit[:10] if point.commit else 'no commit'} · {point.date[:10]}"
    if point.kind == "latency" and point.metric != "level":
        before, after = format_ms(float(point.before)), format_ms(float(point.after))
    elif isinstance(point.before, float) and isinstance(point.after, float):
        before, after = _count(point.before), _count(point.after)
    else:
        before, after = str(point.before), str(point.after)
    size = f" ({format_change(point.change)})" if point.change is not None else ""
    return f"{what}: {before} → {after}{size} at {where}"


def _steps(points: Sequence[ChangePoint], runs: int, height: float) -> str:
    parts = []
    for point in points:
        if point.kind != "latency":
            continue
        x = (_x(point.position - 1, runs) + _x(point.position, runs)) / 2
        parts.append(
            f'<line class="step" x1="{x:.1f}" y1="{_TOP - 4}" x2="{x:.1f}" y2="{height:.1f}">'
            f"<title>change point · {_e(describe(point))}</title></line>"
        )
    return "".join(parts)


def _marks(points: Sequence[ChangePoint], runs: int) -> str:
    parts = []
    base = _H - _BOTTOM + 9
    for point in points:
        if point.kind not in _MARKS:
            continue
        colour, label = _MARKS[point.kind]
        x = _x(point.position, runs)
        parts.append(
            f'<path class="mark {_e(point.kind)}" d="M{x - 4:.1f},{base + 6} L{x:.1f},{base - 1} '
            f'L{x + 4:.1f},{base + 6} Z" fill="{colour}">'
            f"<title>{_e(label)} · {_e(describe(point))}</title></path>"
        )
    return "".join(parts)


def _budget(budget: float | None, top: float, slowest: float) -> str:
    if budget is None:
        return ""
    if budget > slowest * _BUDGET_REACH:
        return (
            f'<text class="budget-off" x="{_W - _RIGHT}" y="10" text-anchor="end">'
            f"budget {_e(format_ms(budget))} ↑ (far above)</text>"
        )
    y = _y(budget, top)
    return (
        f'<line class="budget" x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}">'
        f"<title>budget {_e(format_ms(budget))}</title></line>"
        f'<text class="budget-label" x="{_W - _RIGHT}" y="{y - 3:.1f}" text-anchor="end">'
        f"budget {_e(format_ms(budget))}</text>"
    )


def _axes(runs: Sequence[Run], top: float, *, unit: str) -> str:
    bottom = _H - _BOTTOM
    first, last = runs[0].label, runs[-1].label
    top_label = format_ms(top) if unit == "ms" else f"{top:.2f}×"
    return (
        f'<line class="axis" x1="{_LEFT}" y1="{bottom}" x2="{_W - _RIGHT}" y2="{bottom}"/>'
        f'<text x="{_LEFT - 4}" y="{_TOP + 4}" text-anchor="end">{_e(top_label)}</text>'
        f'<text x="{_LEFT - 4}" y="{bottom}" text-anchor="end">0</text>'
        f'<text x="{_LEFT}" y="{_H - 4}">{_e(first)}</text>'
        f'<text x="{_W - _RIGHT}" y="{_H - 4}" text-anchor="end">{_e(last)}</text>'
    )


def latency_chart(
    label: str,
    runs: Sequence[Run],
    *,
    median: Sequence[float | None],
    p95: Sequence[float | None],
    budget: float | None,
    points: Sequence[ChangePoint],
) -> str:
    """A benchmark's median and p95 over the runs, its budget and its change points."""
    present = [v for v in (*median, *p95) if v is not None] or [1.0]
    slowest = max(present)
    reach = budget if budget is not None and budget <= slowest * _BUDGET_REACH else 0.0
    top = max(slowest, reach) * 1.08 or 1.0
    body = (
        _axes(runs, top, unit="ms")
        + _budget(budget, top, slowest)
        + _line(p95, top, css="p95")
        + _line(median, top, css="median")
        + _dots(median, runs, top)
        + _steps(points, len(runs), _H - _BOTTOM)
        + _marks(points, len(runs))
    )
    return _svg(f"median and p95 of {label} over {len(runs)} runs", body)


def level_chart(runs: Sequence[Run], levels: Sequence[float], points: Sequence[ChangePoint]) -> str:
    """How fast each run was as a whole (1.0: like the others), with its change points."""
    top = max([*levels, 1.0]) * 1.08
    body = (
        _axes(runs, top, unit="x")
        + _line(list(levels), top, css="median")
        + _steps(points, len(runs), _H - _BOTTOM)
    )
    return _svg("level of every run", body)


def _svg(label: str, body: str) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{_e(label)}" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}">{body}</svg>'
    )


def scans_sparkline(scans: Sequence[int | None]) -> str:
    """An index's scans per run as bars; a run where it was not used is a red tick."""
    width, height = 180, 26
    step = width / max(len(scans), 1)
    top = max([s for s in scans if s is not None] or [1]) or 1
    bar = max(step - 1, 1)
    used: list[str] = []
    unused: list[str] = []
    for i, count in enumerate(scans):
        if count is None:
            continue
        h = 3.0 if count == 0 else max(2.0, (height - 2) * count / top)
        (unused if count == 0 else used).append(
            f"M{i * step:.1f},{height - h:.1f}h{bar:.1f}v{h:.1f}h{-bar:.1f}Z"
        )
    tip = " · ".join("-" if c is None else f"{c:,}" for c in scans)
    paths = "".join(
        f'<path class="{css}" d="{"".join(d)}"/>'
        for css, d in (("used", used), ("unused", unused))
        if d
    )
    return (
        f'<svg class="spark" role="img" aria-label="scans per run" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}"><title>scans per run: {_e(tip)}</title>'
        f"{paths}</svg>"
    )
