"""The p95 bar chart of one feature, for a verdict without a baseline: p95 against the budget.

Bars are on a log scale, so a 0.2 ms query and a 2 s report are both readable against a
50 ms or a 5 s budget. Inline SVG only (the report's CSP forbids scripts and fetches).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pgperf.report import format_ms
from pgperf.report.htmlparts import esc as _e
from pgperf.verdict.findings import BenchmarkVerdict
from pgperf.verdict.verdict import FeatureSummary

# Chart geometry (px): label column, bar area, one row per benchmark.
_LABEL_W, _BAR_W, _ROW_H, _TOP = 300, 420, 30, 26


def _x(value: float, scale: tuple[float, float]) -> float:
    low, high = scale
    clipped = min(max(value, low), high)
    return _LABEL_W + _BAR_W * math.log(clipped / low) / math.log(high / low)


def _chart_row(index: int, bench: BenchmarkVerdict, scale: tuple[float, float]) -> str:
    y = _TOP + index * _ROW_H
    cur, base = bench.current, bench.baseline
    # A failing benchmark's label is red even when its bar is not: plan or work can fail it.
    style = ' fill="#a40e26" font-weight="600"' if bench.failed else ""
    parts = [
        f'<text x="{_LABEL_W - 8}" y="{y + 15}" text-anchor="end"{style}>{_e(bench.label)}</text>'
    ]
    if base is not None:
        width = _x(base.p95_ms, scale) - _LABEL_W
        parts.append(
            f'<rect class="base" x="{_LABEL_W}" y="{y + 2}" width="{width:.1f}" height="7" '
            f'fill="#8c959f"><title>baseline p95 {_e(format_ms(base.p95_ms))}</title></rect>'
        )
    if cur is not None:
        over = cur.budget_ms is not None and cur.p95_ms > cur.budget_ms
        width = _x(cur.p95_ms, scale) - _LABEL_W
        parts.append(
            f'<rect class="{"over" if over else "within"}" x="{_LABEL_W}" y="{y + 10}" '
            f'width="{width:.1f}" height="14" fill="{"#cf222e" if over else "#2da44e"}">'
            f"<title>p95 {_e(format_ms(cur.p95_ms))}</title></rect>"
            f'<text x="{_x(cur.p95_ms, scale) + 4:.1f}" y="{y + 22}">'
            f"{_e(format_ms(cur.p95_ms))}</text>"
        )
    return "".join(parts)


def p95_chart(feature: FeatureSummary, benchmarks: Sequence[BenchmarkVerdict]) -> str:
    """Horizontal bars: current p95 (green within, red over budget), baseline p95 in grey."""
    p95s = [b.p95_ms for v in benchmarks for b in (v.current, v.baseline) if b is not None]
    budget = feature.budget_ms
    positive = [p for p in (*p95s, budget or 0.0) if p > 0] or [1.0]
    scale = (min(positive) / 2, max(positive) * 1.5)
    height = _TOP + len(benchmarks) * _ROW_H + 8
    width = _LABEL_W + _BAR_W + 90
    rows = "".join(_chart_row(i, b, scale) for i, b in enumerate(benchmarks))
    line = ""
    if budget is not None:
        bx = _x(budget, scale)
        line = (
            f'<line class="budget" x1="{bx:.1f}" y1="14" x2="{bx:.1f}" y2="{height - 4}" '
            f'stroke="#1f2328" stroke-dasharray="4 3"/>'
            f'<text x="{bx:.1f}" y="11" text-anchor="middle">'
            f"budget {_e(format_ms(budget))}</text>"
        )
    label = f"p95 against the {format_ms(budget)} budget for {feature.feature}"
    return (
        f'<svg class="chart" role="img" aria-label="{_e(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-size="12" '
        f'font-family="system-ui,sans-serif">'
        f"{rows}{line}</svg>"
        '<div class="muted small">bars: current p95 on a log scale (red: over the budget) · '
        "grey: baseline p95 · red label: the benchmark failed, whatever the rule</div>"
    )
