"""The forest plot of one feature: each benchmark's median change with its interval, around 0%.

A dot is the change of the median against the baseline (or the base arm); the whisker is
its 95% interval when the comparison is paired (a same-run A/B). The solid line is no
change, the dashed lines the regression threshold. Inline SVG only: the report's CSP
forbids scripts and fetches.
"""

from __future__ import annotations

from collections.abc import Sequence

from pgperf.report import format_change
from pgperf.report.htmlparts import esc as _e
from pgperf.verdict.findings import BenchmarkVerdict, Status

_LABEL_W, _PLOT_W, _ROW_H, _TOP = 300, 460, 22, 30
_COLOURS = {
    Status.FAIL: "#cf222e",
    Status.UNSTABLE: "#bf8700",
    Status.IMPROVED: "#0969da",
    Status.WARNING: "#bf8700",
}
_PASS = "#1a7f37"
_GREY = "#8c959f"


def _span(benchmarks: Sequence[BenchmarkVerdict], threshold: float) -> float:
    """Half the x axis: twice the threshold, widened to show every point (at most ±100%)."""
    reach = [abs(b.change) for b in benchmarks if b.change is not None]
    reach += [max(abs(b.paired.low), abs(b.paired.high)) for b in benchmarks if b.paired]
    return min(1.0, max(2 * threshold, *reach, 0.05) * 1.1)


def _x(change: float, span: float) -> float:
    clipped = max(-span, min(span, change))
    return _LABEL_W + _PLOT_W * (clipped + span) / (2 * span)


def _row(index: int, bench: BenchmarkVerdict, span: float) -> str:
    y = _TOP + index * _ROW_H + _ROW_H / 2
    colour = _COLOURS.get(bench.status, _PASS)
    label_style = f' fill="{colour}" font-weight="600"' if bench.status in _COLOURS else ""
    parts = [
        f'<text x="{_LABEL_W - 8}" y="{y + 4:.1f}" text-anchor="end"{label_style}>'
        f"{_e(bench.label)}</text>"
    ]
    if bench.change is None:
        parts.append(
            f'<text x="{_LABEL_W + 4}" y="{y + 4:.1f}" fill="{_GREY}">no comparison</text>'
        )
        return "".join(parts)
    interval = ""
    if bench.paired is not None:
        low, high = _x(bench.paired.low, span), _x(bench.paired.high, span)
        interval = f"{format_change(bench.paired.low)} to {format_change(bench.paired.high)}"
        parts.append(
            f'<line class="interval" x1="{low:.1f}" y1="{y:.1f}" x2="{high:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
    title = f"{bench.label}: {format_change(bench.change)}" + (f" [{interval}]" if interval else "")
    parts.append(
        f'<circle class="change s-{_e(bench.status.value)}" cx="{_x(bench.change, span):.1f}" '
        f'cy="{y:.1f}" r="4" fill="{colour}"><title>{_e(title)}</title></circle>'
    )
    return "".join(parts)


def _axis(span: float, threshold: float, height: float) -> str:
    zero, top, bottom = _x(0, span), _TOP - 6, height - 18
    parts = [
        f'<line class="zero" x1="{zero:.1f}" y1="{top}" x2="{zero:.1f}" y2="{bottom:.1f}" '
        'stroke="#1f2328"/>'
    ]
    for sign in (-1, 1):
        x = _x(sign * threshold, span)
        parts.append(
            f'<line class="threshold" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom:.1f}" '
            'stroke="#cf222e" stroke-dasharray="4 3"/>'
            f'<text x="{x:.1f}" y="{top - 4}" text-anchor="middle" fill="#a40e26">'
            f"{sign * threshold:+.0%}</text>"
        )
    for tick in (-span, -span / 2, 0.0, span / 2, span):
        parts.append(
            f'<text x="{_x(tick, span):.1f}" y="{height - 4:.1f}" text-anchor="middle" '
            f'fill="{_GREY}">{tick:+.0%}</text>'
        )
    return "".join(parts)


def forest_plot(feature: str, benchmarks: Sequence[BenchmarkVerdict], threshold: float) -> str:
    """The feature's forest plot as inline SVG, with its legend."""
    span = _span(benchmarks, threshold)
    height = _TOP + len(benchmarks) * _ROW_H + 22
    width = _LABEL_W + _PLOT_W + 20
    rows = "".join(_row(i, b, span) for i, b in enumerate(benchmarks))
    label = f"median change of each {feature} benchmark, with its interval"
    return (
        f'<svg class="forest" role="img" aria-label="{_e(label)}" width="{width}" '
        f'height="{height:.0f}" viewBox="0 0 {width} {height:.0f}" font-size="12" '
        f'font-family="system-ui,sans-serif">{_axis(span, threshold, height)}{rows}</svg>'
        '<div class="muted small">dot: change of the median (slower to the right) · whisker: '
        "its 95% interval over the paired rounds · dashed: the regression threshold · red: "
        "failed · amber: unstable (the interval is too wide to decide) · blue: improved</div>"
    )
