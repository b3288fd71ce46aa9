"""The HTML report's evidence panels: the plan diff, the users' plan shapes, row estimates.

Each function returns HTML for one feature's section; every value is escaped. The page's
CSS (``pgperf.report.html``) styles the classes used here.
"""

from __future__ import annotations

from collections.abc import Sequence

from pgperf.report.htmlparts import esc as _e
from pgperf.report.htmlparts import html_table
from pgperf.report.plandiff import DiffNode, diff_by_statement, new_shapes, plans_differ
from pgperf.verdict.findings import BenchmarkVerdict
from pgperf.verdict.plans import PlanShape
from pgperf.verdict.record import BenchmarkRecord

CSS = """
table.plandiff td{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
tr.d-changed td{background:#fff1c2}tr.d-added td{background:#dafbe1}
tr.d-removed td{background:#ffebe9;text-decoration:line-through}
tr.d-removed td.notes,tr.d-removed td.num{text-decoration:none}
td.mark{width:1em;font-weight:700;text-align:center}
tr.new-shape td{background:#fff8c5}tr.bad-shape td{background:#ffebe9}
"""
_MARK_TITLES = {"same": "", "changed": "~", "added": "+", "removed": "-"}


def _arrow(pair: tuple[str, str]) -> str:
    before, after = pair
    if not before and not after:
        return ""
    return _e(after) if before == after else f"{_e(before or '-')} → {_e(after or '-')}"


def _diff_row(line: DiffNode) -> str:
    pad = 4 + 16 * line.depth
    return (
        f'<tr class="d-{_e(line.change)}"><td class="mark">{_e(_MARK_TITLES[line.change])}</td>'
        f'<td style="padding-left:{pad}px">{_e(line.name)}</td>'
        f'<td class="num">{_arrow(line.rows)}</td><td class="num">{_arrow(line.buffers)}</td>'
        f'<td class="notes">{_e("; ".join(line.notes))}</td></tr>'
    )


def diffhtml_table(lines: Sequence[DiffNode]) -> str:
    """One statement's plan diff as a table: mark, node, rows, buffers, notes."""
    header = ["", "node (baseline → current)", "rows", "buffers", "notes"]
    return html_table(header, (_diff_row(line) for line in lines), css="plandiff")


def spills_changed(bench: BenchmarkVerdict) -> bool:
    """Whether the nodes that spill differ from the baseline's."""
    cur, base = bench.current, bench.baseline
    if cur is None or base is None or cur.spills is None or base.spills is None:
        return False
    return set(cur.spills) != set(base.spills)


def plan_changed(bench: BenchmarkVerdict) -> bool:
    """Whether the plan differs from the baseline's (indexes, Seq Scans, shape or spills)."""
    cur, base = bench.current, bench.baseline
    if cur is None or base is None:
        return False
    return (
        set(cur.plan_indexes) != set(base.plan_indexes)
        or set(cur.seq_scans) != set(base.seq_scans)
        or plans_differ(base.plan, cur.plan)
        or spills_changed(bench)
    )


def plan_diffs(benchmarks: Sequence[BenchmarkVerdict]) -> str:
    """A folded plan diff for each benchmark whose plan changed."""
    parts = []
    for bench in benchmarks:
        if not plan_changed(bench) or bench.current is None or bench.baseline is None:
            continue
        diffs = diff_by_statement(bench.baseline.plan, bench.current.plan)
        body = "".join(
            (f"<h4>{_e(name)}</h4>" if name else "") + diffhtml_table(lines)
            for name, lines in diffs.items()
        )
        parts.append(
            f'<details class="plan-diff" data-key="{_e(bench.key)}"><summary>plan diff of '
            f"{_e(bench.label)}: baseline → current</summary>{body}</details>"
        )
    return "".join(parts)


def _shape_row(record: BenchmarkRecord, shape: PlanShape, sampled: int, *, new: bool) -> str:
    missing = [i for i in shape.expected if i not in shape.indexes]
    large = [r for r in shape.large_seq_scans if r not in record.seqscan_allowed]
    css = "bad-shape" if missing or large else "new-shape" if new else ""
    return (
        f'<tr class="{css}"><td>{_e(shape.shape)}{" (new)" if new else ""}</td>'
        f'<td class="num">{shape.users} / {sampled}</td><td>{_e(shape.user_ids[0])}</td>'
        f"<td>{_e(', '.join(shape.indexes) or 'no index')}</td>"
        f"<td>{_e(', '.join(shape.seq_scans) or '-')}</td></tr>"
    )


def user_plans(benchmarks: Sequence[BenchmarkVerdict]) -> str:
    """For each query planned for sampled users: its plan shapes and who gets them."""
    parts = []
    for bench in benchmarks:
        record = bench.current
        if record is None or not record.user_plans:
            continue
        sampled = sum(s.users for s in record.user_plans)
        before = bench.baseline.user_plans if bench.baseline else None
        known = {s.shape for s in before} if before is not None else None
        rows = (
            _shape_row(record, s, sampled, new=known is not None and s.shape not in known)
            for s in record.user_plans
        )
        header = ["shape", "users", "e.g. user", "indexes", "Seq Scans"]
        diffs = "".join(
            f"<h4>new shape {_e(shape.shape)} (user {_e(shape.user_ids[0])}) against the "
            f"baseline's most common</h4>{diffhtml_table(nodes)}"
            for shape, nodes in new_shapes(record, bench.baseline)
        )
        parts.append(
            f'<details class="user-plans" data-key="{_e(bench.key)}"><summary>plans of '
            f"{_e(bench.key.query)} for {sampled} sampled users: {len(record.user_plans)} "
            f"shape(s)</summary>{html_table(header, rows, css='shapes')}{diffs}</details>"
        )
    return "".join(parts)


def estimates(benchmarks: Sequence[BenchmarkVerdict]) -> str:
    """The plan nodes whose rows were off from the estimate by more than 10x, per benchmark."""
    items = [
        f"<li><strong>{_e(b.label)}</strong>: {_e(node)}</li>"
        for b in benchmarks
        if b.current is not None
        for node in b.current.misestimates
    ]
    if not items:
        return ""
    return (
        f'<details class="estimates"><summary>row estimates off by more than 10× '
        f"({len(items)} node(s): where plans flip when the data grow)</summary>"
        f'<ul class="small">{"".join(items)}</ul></details>'
    )
