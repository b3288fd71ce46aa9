"""The history's change points for tools (JSON), for a job summary (markdown), for a terminal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pgperf.report.history_chart import describe
from pgperf.verdict.history import ChangePoint, History


def _point_json(point: ChangePoint, history: History) -> dict[str, Any]:
    return {
        "benchmark": point.subject,
        "feature": point.feature or None,
        "metric": point.metric,
        "kind": point.kind,
        "run": point.position + 1,
        "commit": point.commit,
        "date": point.date,
        "file": str(history.runs[point.position].results.path),
        "before": point.before,
        "after": point.after,
        "change": point.change,
        "pvalue": point.pvalue,
        "new": point.new,
    }


def render_history_json(history: History) -> str:
    """``{"format": "pgperf-history", "version": 1, "runs": [...], "change_points": [...]}``."""
    d = history.detection
    data = {
        "format": "pgperf-history",
        "version": 1,
        "profile": history.profile,
        "detection": {
            "method": "apache-otava e-divisive (split/merge), t-test",
            "max_pvalue": d.max_pvalue,
            "min_change": d.min_change,
            "hold": d.hold,
            "work_tolerance": d.work_tolerance,
            "work_floor": d.work_floor,
        },
        "runs": [
            {
                "run": i + 1,
                "commit": r.commit,
                "ordered_by": r.when.isoformat(),
                "created_at": r.created_at,
                "file": str(r.results.path),
            }
            for i, r in enumerate(history.runs)
        ],
        "skipped": [{"file": str(s.path), "reason": s.reason} for s in history.skipped],
        "change_points": [_point_json(p, history) for p in history.change_points],
    }
    return json.dumps(data, indent=2) + "\n"


def _line(point: ChangePoint, history: History) -> str:
    run = history.runs[point.position]
    new = " (new)" if point.new else ""
    return f"run {point.position + 1} {run.label}: {point.subject} {describe(point)}{new}"


def history_lines(history: History, *, last: int) -> list[str]:
    """The terminal summary: the runs, then the change points of the last ``last`` runs."""
    recent = history.recent(last)
    lines = [
        f"history: {len(history.runs)} runs of profile {history.profile}, "
        f"{len(history.change_points)} change points, {len(recent)} in the last {last} runs"
    ]
    lines += [f"  left out {s.path}: {s.reason}" for s in history.skipped]
    lines += [f"  {_line(p, history)}" for p in recent]
    return lines


def _md_row(point: ChangePoint, history: History) -> str:
    run = history.runs[point.position]
    cells = [
        f"`{point.subject}`",
        point.kind,
        describe(point).split(" at ", 1)[0],
        f"run {point.position + 1} `{run.label}` {run.created_at[:10]}",
        "**new**" if point.new else "",
    ]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def render_history_markdown(history: History, *, last: int) -> str:
    """The job summary: the new change points first, then the others of the last runs."""
    recent: Sequence[ChangePoint] = history.recent(last)
    new = [p for p in recent if p.new]
    head = (
        f"## pgperf history: {history.profile}\n\n{len(history.runs)} runs; "
        f"{len(new)} new change points, {len(recent)} in the last {last} runs.\n"
    )
    if not recent:
        return head + "\nNo change point.\n"
    rows = [_md_row(p, history) for p in (*new, *(p for p in recent if not p.new))]
    table = "| series | kind | change | first run after it | |\n|---|---|---|---|---|\n"
    return head + "\n" + table + "\n".join(rows) + "\n"
