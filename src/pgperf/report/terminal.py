"""The verdict in a terminal: one rich table per benchmark, one per feature, then the notes."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pgperf.report import format_change, format_ms, status_label
from pgperf.verdict.findings import BenchmarkVerdict, Status
from pgperf.verdict.verdict import Verdict

_STYLES: dict[Status, str] = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.UNSTABLE: "bold yellow",
    Status.IMPROVED: "cyan",
    Status.WARNING: "bold yellow",
    Status.NEW: "yellow",
    Status.MISSING: "yellow",
}


def _status_text(status: Status) -> Text:
    return Text(status_label(status), style=_STYLES[status])


def _benchmark_row(bench: BenchmarkVerdict) -> list[str | Text]:
    return [
        bench.feature,
        bench.label,
        format_ms(bench.baseline_ms),
        format_ms(bench.current_ms),
        format_change(bench.change),
        _status_text(bench.status),
        bench.reason,
    ]


def benchmark_table(verdict: Verdict) -> Table:
    """Every benchmark: feature, benchmark, baseline, current (medians), change, verdict, reason."""
    table = Table(title="benchmarks (median per round)", title_justify="left")
    table.add_column("feature", no_wrap=True)
    table.add_column("benchmark")
    for column in ("baseline", "current", "change"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("verdict")
    table.add_column("reason", overflow="fold")
    for bench in verdict.benchmarks:
        table.add_row(*_benchmark_row(bench))
    return table


def feature_table(verdict: Verdict) -> Table:
    """One row per feature: worst p95, its budget, median change vs baseline, verdict."""
    table = Table(title="features", title_justify="left")
    table.add_column("feature")
    table.add_column("p95 (worst)", justify="right")
    table.add_column("budget", justify="right")
    table.add_column("change vs baseline", justify="right")
    table.add_column("verdict")
    for feature in verdict.features:
        failures = f" ({feature.failures}/{feature.benchmarks})" if feature.failures else ""
        verdict_text = _status_text(feature.status)
        verdict_text.append(failures)
        table.add_row(
            feature.feature,
            format_ms(feature.p95_ms),
            format_ms(feature.budget_ms),
            format_change(feature.change),
            verdict_text,
        )
    return table


def _console() -> Console:
    console = Console()
    # Not a terminal (CI logs, pipes): rich would assume 80 columns and fold every reason.
    return console if console.is_terminal else Console(width=180)


def print_verdict(verdict: Verdict, *, console: Console | None = None) -> None:
    """Print the tables, the notes and the headline (last, where the eye lands)."""
    out = console or _console()
    out.print(benchmark_table(verdict))
    out.print(feature_table(verdict))
    if verdict.against:
        out.print(Text(verdict.against, style="bold"))
    if verdict.baseline_origin:
        role = "base arm" if verdict.against else "baseline"
        out.print(f"{role}: {verdict.baseline_origin}")
    out.print(f"results:  {verdict.results_origin}")
    if verdict.latency_note:
        out.print(Text(f"note: {verdict.latency_note}", style="yellow"))
    for note in verdict.notes:
        out.print(f"note: {note}")
    for warning in verdict.warnings:
        out.print(Text(f"warning: result changed with its SQL: {warning}", style="bold yellow"))
    style = "bold red" if verdict.failed else "bold green"
    out.print(Text(verdict.headline, style=style))
