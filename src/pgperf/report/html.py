"""The verdict as one self-contained HTML page: inline CSS and SVG, nothing fetched from outside.

Every value that reaches the page goes through `_e` (HTML escaping); the Content-Security-Policy
forbids any network fetch, so the page renders the same offline, from a CI artifact or a mail.
"""

from __future__ import annotations

from collections.abc import Sequence

from pgperf.report import details, format_change, format_ms, rules_line, status_label
from pgperf.report.bars import p95_chart
from pgperf.report.details import plan_changed
from pgperf.report.forest import forest_plot
from pgperf.report.htmlparts import CSP, html_table
from pgperf.report.htmlparts import esc as _e
from pgperf.verdict.findings import BenchmarkVerdict, Kind, Status
from pgperf.verdict.record import IndexUsage, ResultsFile, RunMetadata
from pgperf.verdict.verdict import FeatureSummary, Verdict

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1180px;margin:0 auto;padding:20px 28px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}
h3{font-size:16px;margin:0 0 6px}
.muted{color:#59636e}.small{font-size:12px}
.banner{border-radius:8px;padding:14px 18px;margin:14px 0;color:#fff;font-size:18px;font-weight:600}
.banner.fail{background:#cf222e}.banner.pass{background:#1a7f37}
.note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px;margin:8px 0}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 10px}
th,td{border:1px solid #d1d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}td.num{text-align:right;white-space:nowrap}
td.over{color:#a40e26;font-weight:700}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600}
.s-fail{background:#ffebe9;color:#a40e26;border:1px solid #cf222e}
.s-pass{background:#dafbe1;color:#116329;border:1px solid #1a7f37}
.s-improved{background:#ddf4ff;color:#0550ae;border:1px solid #218bff}
.s-new,.s-missing,.s-unstable,.s-warning{background:#fff8c5;color:#7d4e00;
 border:1px solid #d4a72c}
.warning{background:#fff8c5;border:2px solid #bf8700;border-radius:6px;padding:8px 12px;
 margin:8px 0}
.warning ul{margin:4px 0 0;padding-left:20px}li.warning{color:#7d4e00;font-weight:600}
tr.failed td{background:#fff5f5}tr.plan-change td.plan{background:#fff1c2;font-weight:600}
.feature{background:#fff;border:1px solid #d1d9e0;border-radius:8px;padding:14px 16px;margin:14px 0}
.feature.fail{border-left:6px solid #cf222e}
.feature.pass,.feature.improved{border-left:6px solid #1a7f37}
ul.reasons{margin:0;padding-left:18px}li.fail{color:#a40e26}li.improved{color:#0550ae}
tr.unused td{background:#fff8e1}code{font-size:12px}tr.differs td{background:#fff8c5}
.scroll{overflow-x:auto}table.benchmarks{font-size:13px}
table.benchmarks td.findings{min-width:220px}table.benchmarks td.plan{max-width:200px}
table.benchmarks td.num{white-space:normal}
details pre{max-height:320px;overflow:auto;background:#f6f8fa;padding:8px;font-size:11px}
"""


def _badge(status: Status) -> str:
    return f'<span class="badge s-{_e(status.value)}">{_e(status_label(status))}</span>'


def _size(num_bytes: int) -> str:
    value = float(num_bytes)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


# --------------------------------------------------------------------------- the top


def _banner(verdict: Verdict) -> str:
    state = "fail" if verdict.failed else "pass"
    return f'<div class="banner {state}" id="verdict">{_e(verdict.headline)}</div>'


def _warnings(verdict: Verdict) -> str:
    if not verdict.warnings:
        return ""
    items = "".join(f"<li>{_e(w)}</li>" for w in verdict.warnings)
    return (
        '<div class="warning" id="warnings"><strong>Results changed</strong> (their SQL '
        f"changed too: make sure the new results are intended)<ul>{items}</ul></div>"
    )


def _notes(verdict: Verdict) -> str:
    notes = [] if verdict.has_baseline else ["No baseline: only budgets and plans were checked."]
    notes += [verdict.latency_note] if verdict.latency_note else []
    notes += list(verdict.notes)
    return "".join(f'<div class="note">{_e(n)}</div>' for n in notes)


def _origins(verdict: Verdict) -> str:
    lines = [verdict.against] if verdict.against else []
    lines += [
        f"results: {verdict.results_origin}",
        f"{'base arm' if verdict.against else 'baseline'}: {verdict.baseline_origin or 'none'}",
        f"rules: {rules_line(verdict)}",
    ]
    return "".join(f'<div class="muted small">{_e(line)}</div>' for line in lines)


def _failures(verdict: Verdict) -> str:
    if not verdict.failures:
        return ""
    rows = (
        f'<tr class="failed"><td>{_e(b.feature)}</td><td>{_e(b.label)}</td>'
        f"<td>{_e(b.rule.value if b.rule else '')}</td><td>{_e(b.reason)}</td></tr>"
        for b in verdict.failures
    )
    table = html_table(["feature", "benchmark", "rule", "why"], rows, css="failures")
    return f'<h2 id="failures">What failed</h2>{table}'


def _over(p95: float | None, budget: float | None) -> str:
    return " over" if p95 is not None and budget is not None and p95 > budget else ""


def _overview(verdict: Verdict) -> str:
    rows = (
        f'<tr class="{"failed" if f.status is Status.FAIL else ""}">'
        f'<td><a href="#f-{_e(f.feature)}">{_e(f.feature)}</a></td><td>{_badge(f.status)}</td>'
        f'<td class="num{_over(f.p95_ms, f.budget_ms)}">{_e(format_ms(f.p95_ms))}</td>'
        f'<td class="num">{_e(format_ms(f.budget_ms))}</td>'
        f'<td class="num">{_e(format_change(f.change))}</td>'
        f'<td class="num">{f.failures} / {f.benchmarks}</td></tr>'
        for f in verdict.features
    )
    header = ["feature", "verdict", "worst p95", "budget", "median change", "failed"]
    return f"<h2>Features</h2>{html_table(header, rows, css='features')}"


# --------------------------------------------------------------------------- per feature


def _arrow(before: int | None, after: int | None) -> str:
    if before is None or after is None:
        return _e(after if after is not None else before if before is not None else "-")
    if not before:
        return f"{before:,} → {after:,}"
    return f"{before:,} → {after:,} ({_e(format_change(after / before - 1))})"


def _buffers(bench: BenchmarkVerdict) -> str:
    cur, base = bench.current, bench.baseline
    text = _arrow(base.buffers if base else None, cur.buffers if cur else None)
    for label, field in (("temp", "temp_blocks"), ("WAL bytes", "wal_bytes")):
        before, after = getattr(base, field, None), getattr(cur, field, None)
        if before or after:
            text += f'<div class="small">{_e(label)} {_arrow(before, after)}</div>'
    return text


def _plan_cell(bench: BenchmarkVerdict) -> str:
    source = bench.current or bench.baseline
    if source is None:
        return ""
    uses = ", ".join(source.plan_indexes) or "no index"
    scans = f"; Seq Scan on {', '.join(source.seq_scans)}" if source.seq_scans else ""
    text = f"{_e(uses)}{_e(scans)}"
    if plan_changed(bench) and bench.baseline is not None:
        before = ", ".join(bench.baseline.plan_indexes) or "no index"
        if set(bench.baseline.plan_indexes) == set(source.plan_indexes):
            text = f"<strong>plan changed</strong> (same indexes): {text}"
        else:
            text = f"<strong>plan changed</strong>: was {_e(before)}, now {text}"
    extra = []
    if source.spills:
        extra.append(f"{len(source.spills)} node(s) spill to disk")
    if source.misestimates:
        extra.append(f"{len(source.misestimates)} row estimate(s) off >10×")
    if source.user_plans:
        extra.append(f"{len(source.user_plans)} plan shape(s) over sampled users")
    notes = "".join(f'<div class="muted small">{_e(e)}</div>' for e in extra)
    return text + notes


def _reasons(bench: BenchmarkVerdict) -> str:
    items = "".join(
        f'<li class="{_e(f.kind.value)}">{_e(f.message)}</li>'
        for f in bench.findings
        if f.kind is not Kind.INFO or bench.status is not Status.PASS
    )
    return f'<ul class="reasons">{items}</ul>' if items else ""


def _p95_cell(bench: BenchmarkVerdict) -> str:
    cur = bench.current
    if cur is None:
        return "-"
    return f"{_e(format_ms(cur.p95_ms))} / {_e(format_ms(cur.budget_ms))}"


def _bench_row(bench: BenchmarkVerdict) -> str:
    classes = " ".join(
        c for c, on in (("failed", bench.failed), ("plan-change", plan_changed(bench))) if on
    )
    return (
        f'<tr class="{classes}" data-key="{_e(bench.key)}"><td>{_e(bench.label)}</td>'
        f"<td>{_badge(bench.status)}</td>"
        f'<td class="num">{_p95_cell(bench)}</td>'
        f'<td class="num">{_e(format_ms(bench.baseline_ms))} → '
        f"{_e(format_ms(bench.current_ms))}</td>"
        f'<td class="num">{_change_cell(bench)}</td>'
        f'<td class="num">{_buffers(bench)}</td>'
        f'<td class="plan">{_plan_cell(bench)}</td><td class="findings">{_reasons(bench)}</td></tr>'
    )


def _change_cell(bench: BenchmarkVerdict) -> str:
    if bench.paired is None:
        return _e(format_change(bench.change))
    low, high = format_change(bench.paired.low), format_change(bench.paired.high)
    return (
        f'{_e(format_change(bench.change))}<br><span class="muted">[{_e(low)}, {_e(high)}]</span>'
    )


def _feature_section(
    feature: FeatureSummary, benchmarks: Sequence[BenchmarkVerdict], verdict: Verdict
) -> str:
    header = [
        "benchmark",
        "verdict",
        "p95 / budget",
        "median: baseline → current",
        "change",
        "buffers",
        "plan",
        "findings",
    ]
    table = html_table(header, (_bench_row(b) for b in benchmarks), css="benchmarks")
    chart = (
        forest_plot(feature.feature, benchmarks, verdict.thresholds.regression)
        if verdict.has_baseline
        else p95_chart(feature, benchmarks)
    )
    return (
        f'<section class="feature {_e(feature.status.value)}" id="f-{_e(feature.feature)}" '
        f'data-feature="{_e(feature.feature)}">'
        f"<h3>{_e(feature.feature)} {_badge(feature.status)} "
        f'<span class="muted small">budget {_e(format_ms(feature.budget_ms))}</span></h3>'
        f'{chart}<div class="scroll">{table}</div>'
        f"{details.plan_diffs(benchmarks)}{details.user_plans(benchmarks)}"
        f"{details.estimates(benchmarks)}</section>"
    )


# --------------------------------------------------------------------------- indexes, environment


def _index_row(usage: IndexUsage) -> str:
    unused = usage.scans == 0
    used_by = ", ".join(usage.used_by_benchmarks) or "-"
    return (
        f'<tr class="{"unused" if unused else "used"}"><td><code>{_e(usage.index)}</code></td>'
        f"<td>{_e(usage.table)}</td><td>{_e(usage.category)}</td>"
        f'<td class="num">{_e(_size(usage.size_bytes))}</td><td class="num">{usage.scans:,}</td>'
        f"<td>{'<strong>unused</strong>' if unused else 'used'}</td>"
        f'<td class="small">{_e(used_by)}</td></tr>'
    )


def _index_usage(meta: RunMetadata) -> str:
    usage = sorted(meta.index_usage, key=lambda u: (u.scans > 0, u.table, u.index))
    if not usage:
        return '<h2 id="indexes">Index usage</h2><p class="muted">not recorded in this run</p>'
    unused = [u for u in usage if u.scans == 0]
    wasted = _size(sum(u.size_bytes for u in unused))
    summary = f"{len(unused)} of {len(usage)} indexes unused by the benchmarks ({wasted})"
    header = ["index", "table", "category", "size", "scans", "", "used by"]
    table = html_table(header, (_index_row(u) for u in usage), css="index-usage")
    return f'<h2 id="indexes">Index usage</h2><p>{_e(summary)}</p>{table}'


def _env_values(meta: RunMetadata) -> list[str]:
    m, pg = meta.machine, meta.postgres
    return [
        meta.backend or "-",
        f"{pg.version} (major {pg.major})",
        f"{meta.profile} (seed {meta.seed})",
        f"{m.cpu or '?'} · {m.cores} cores · {m.memory_gb} GB",
        m.os or "-",
        m.fingerprint,
        meta.git_commit or "-",
        meta.created_at or "-",
        ", ".join(f"{k}={v}" for k, v in sorted(pg.settings.items())) or "-",
    ]


# Rows that differ on every run by nature; highlighting them would hide the telling ones.
_ALWAYS_DIFFER = frozenset({"git commit", "created at"})


def _env_row(name: str, current: str, before: str, *, compared: bool) -> str:
    differs = compared and current != before and name not in _ALWAYS_DIFFER
    return (
        f'<tr class="{"differs" if differs else ""}"><th>{_e(name)}</th>'
        f"<td>{_e(current)}</td><td>{_e(before)}</td></tr>"
    )


def _environment(results: ResultsFile, baseline: ResultsFile | None) -> str:
    names = ["backend", "PostgreSQL", "profile", "machine", "OS", "machine fingerprint"]
    names += ["git commit", "created at", "server settings"]
    current = _env_values(results.meta)
    before = _env_values(baseline.meta) if baseline else ["-"] * len(names)
    rows = (
        _env_row(n, c, b, compared=baseline is not None)
        for n, c, b in zip(names, current, before, strict=True)
    )
    table = html_table(["", "current", "baseline"], rows, css="environment")
    return f'<h2 id="environment">Environment</h2>{table}'


# --------------------------------------------------------------------------- the page


def render_html(verdict: Verdict, results: ResultsFile, baseline: ResultsFile | None) -> str:
    """The whole report page for a verdict on ``results`` (against ``baseline`` when given)."""
    sections = "".join(
        _feature_section(f, [b for b in verdict.benchmarks if b.feature == f.feature], verdict)
        for f in verdict.features
    )
    title = f"pgperf report: {verdict.profile}"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}{details.CSS}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>{_origins(verdict)}{_banner(verdict)}{_warnings(verdict)}"
        f"{_notes(verdict)}"
        f"{_failures(verdict)}{_overview(verdict)}<h2>Per feature</h2>{sections}"
        f"{_index_usage(results.meta)}{_environment(results, baseline)}</main></body></html>\n"
    )
