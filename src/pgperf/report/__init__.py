"""Reports of a verdict (terminal, markdown, html) and the formatting they share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgperf.verdict.findings import Status

if TYPE_CHECKING:
    from pgperf.verdict.verdict import Verdict

#: How each status reads in a report (upper case for what needs a reviewer's eye).
STATUS_LABELS: dict[Status, str] = {
    Status.PASS: "pass",
    Status.FAIL: "FAIL",
    Status.UNSTABLE: "UNSTABLE",
    Status.IMPROVED: "improved",
    Status.WARNING: "WARNING",
    Status.NEW: "NEW",
    Status.MISSING: "MISSING",
}


def format_ms(value: float | None) -> str:
    """A duration in ms with sensible precision; '-' when absent."""
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.2f} ms"
    if value < 1000:
        return f"{value:.1f} ms"
    return f"{value:,.0f} ms"


def format_change(change: float | None) -> str:
    """A relative change as a signed percentage ('+25%'); '-' when absent."""
    if change is None:
        return "-"
    return "±0%" if abs(change) < 0.005 else f"{change:+.0%}"


def status_label(status: Status) -> str:
    """The label of a status in every report."""
    return STATUS_LABELS[status]


def rules_line(verdict: Verdict) -> str:
    """The thresholds the verdict applied, in one line (an A/B's latency rule is the paired one)."""
    t = verdict.thresholds
    if verdict.against:
        return (
            f"profile {verdict.profile} · threshold +{t.regression:.0%} · latency on paired "
            "rounds: fails above the threshold when the 95% interval excludes no change"
        )
    return (
        f"profile {verdict.profile} · threshold +{t.regression:.0%} · latency floor "
        f"{t.latency_floor_ms:g} ms · significance p < {t.significance:g}"
    )
