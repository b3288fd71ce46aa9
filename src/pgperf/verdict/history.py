"""Results files as a history: runs in commit order, a series per benchmark and metric, and
the change points on each (where, by how much, and which commit did it).

A history holds the normal runs of one profile: what-if runs (indexes dropped on purpose)
and the arms of a same-run A/B are left out, since neither measures the code as merged.
Runs are ordered by the time of their commit (git's, when it knows the commit), then by when
they were measured. Pure: the commit times come in as a function.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pgperf.errors import ResultsFileError
from pgperf.stats import median
from pgperf.verdict.changepoints import (
    Detection,
    Step,
    exact_steps,
    latency_steps,
    run_levels,
    usage_steps,
    work_steps,
)
from pgperf.verdict.record import BenchmarkKey, BenchmarkRecord, ResultsFile

#: The latency series of a benchmark (ms), tested by E-divisive means.
LATENCY = ("median_ms", "p95_ms")
#: The work series, where the run recorded them (WAL and temp: later formats).
WORK = ("buffers", "wal_bytes", "wal_records", "temp_blocks")
#: The name of the run-level series among the change points.
WHOLE_RUN = "(whole run)"

_RECORD_FIELDS = frozenset(f.name for f in fields(BenchmarkRecord))
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Run:
    """One results file in the history, with the time it is ordered by."""

    results: ResultsFile
    commit: str | None
    when: datetime

    @property
    def created_at(self) -> str:
        """When the run was measured (ISO 8601, as written)."""
        return self.results.meta.created_at

    @property
    def label(self) -> str:
        """The short commit, else the measuring date."""
        return self.commit[:10] if self.commit else self.created_at[:10] or "?"


@dataclass(frozen=True)
class Skipped:
    """A file left out of the history, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class ChangePoint:
    """Where a series changed level: the first run after the change, and the levels around it."""

    subject: str  # a benchmark key, an index name, or WHOLE_RUN
    feature: str  # "" for an index or the whole run
    metric: str  # median_ms, p95_ms, buffers, ..., rows, plan, scans, level
    kind: str  # latency, work, rows, plan, index
    position: int  # of the first run after the change, in History.runs
    commit: str | None
    date: str
    before: float | str
    after: float | str
    change: float | None  # after / before - 1 for numbers
    pvalue: float | None = None
    new: bool = False  # found only since the latest run

    @property
    def ident(self) -> tuple[str, str]:
        """The series it is on."""
        return (self.subject, self.metric)


@dataclass(frozen=True)
class BenchmarkSeries:
    """A benchmark's values in every run (None where the run did not measure it)."""

    key: BenchmarkKey
    budget_ms: float | None
    values: dict[str, tuple[float | None, ...]]  # metric -> per run
    plans: tuple[str | None, ...]  # shape hash per run
    plan_uses: tuple[str | None, ...]  # what each plan reads: indexes, Seq Scans


@dataclass(frozen=True)
class IndexSeries:
    """An index's scans in every run (None where the run did not record it)."""

    index: str
    table: str
    scans: tuple[int | None, ...]


@dataclass(frozen=True)
class History:
    """Runs in order, the series, and every change point found on them."""

    runs: tuple[Run, ...]
    skipped: tuple[Skipped, ...]
    benchmarks: tuple[BenchmarkSeries, ...]
    indexes: tuple[IndexSeries, ...]
    run_level: tuple[float, ...]
    change_points: tuple[ChangePoint, ...]
    detection: Detection = field(default_factory=Detection)

    @property
    def profile(self) -> str:
        """The profile of every run."""
        return self.runs[0].results.meta.profile

    def recent(self, last: int) -> tuple[ChangePoint, ...]:
        """The change points whose first run is among the last ``last`` runs, newest first."""
        start = len(self.runs) - last
        found = [c for c in self.change_points if c.position >= start]
        return tuple(sorted(found, key=lambda c: (-c.position, c.kind, c.subject, c.metric)))


# --------------------------------------------------------------------------- runs


def _parse_time(text: str) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def order_runs(
    files: Iterable[ResultsFile], commit_time: Callable[[str], datetime | None]
) -> tuple[tuple[Run, ...], tuple[Skipped, ...]]:
    """The normal runs by commit time, then measuring time; what-if runs and A/B arms apart."""
    runs: list[tuple[datetime, datetime, Run]] = []
    skipped: list[Skipped] = []
    for results in files:
        meta = results.meta
        if meta.what_if:
            skipped.append(Skipped(results.path, f"a what-if run ({meta.what_if.described})"))
            continue
        if meta.ab is not None:
            skipped.append(Skipped(results.path, f"the {meta.ab.arm} arm of an A/B"))
            continue
        created = _parse_time(meta.created_at) or _EPOCH
        commit = meta.git_commit.removesuffix("+dirty") if meta.git_commit else None
        committed = commit_time(commit) if commit else None
        when = committed.astimezone(timezone.utc) if committed else created
        runs.append((when, created, Run(results, commit, when)))
    runs.sort(key=lambda r: (r[0], r[1], str(r[2].results.path)))
    return tuple(r for _, _, r in runs), tuple(skipped)


def check_one_profile(runs: Sequence[Run]) -> None:
    """Refuse a history that mixes profiles or seeds: their timings are of other data."""
    kinds = sorted({(r.results.meta.profile, r.results.meta.seed) for r in runs})
    if len(kinds) > 1:
        listed = ", ".join(f"{p} (seed {s})" for p, s in kinds)
        raise ResultsFileError(
            f"the results files hold runs of {len(kinds)} profiles or seeds: {listed}; a "
            "history compares runs of the same data (checked the profile and seed of each "
            '"pgperf" object).',
            hint="pass the files of one profile, e.g. only the perf-report-default artifacts",
        )


# --------------------------------------------------------------------------- series

_LITERAL = re.compile(r"'(?:[^']|'')*'|(?<![\w.$])-?\d+(?:\.\d+)?(?![\w.])")


def _masked(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _masked(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_masked(v) for v in node]
    return _LITERAL.sub("?", node) if isinstance(node, str) else node


def plan_shape(plan: Any) -> str | None:
    """A hash of the normalised plan with its constants masked: the same for the same plan."""
    if plan is None:
        return None
    text = json.dumps(_masked(plan), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _plan_uses(record: BenchmarkRecord) -> str:
    uses = ", ".join(record.plan_indexes) or "no index"
    scans = f"; Seq Scan on {', '.join(record.seq_scans)}" if record.seq_scans else ""
    return uses + scans


def _metric(record: BenchmarkRecord, name: str) -> float | None:
    value = getattr(record, name) if name in _RECORD_FIELDS else record.details.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _benchmark_series(key: BenchmarkKey, runs: Sequence[Run]) -> BenchmarkSeries:
    records = [r.results.by_key().get(key) for r in runs]
    values = {
        name: tuple(None if rec is None else _metric(rec, name) for rec in records)
        for name in (*LATENCY, *WORK, "rows")
    }
    budgets = [rec.budget_ms for rec in records if rec is not None and rec.budget_ms is not None]
    return BenchmarkSeries(
        key=key,
        budget_ms=budgets[-1] if budgets else None,
        values={k: v for k, v in values.items() if any(x is not None for x in v)},
        plans=tuple(None if rec is None else plan_shape(rec.plan) for rec in records),
        plan_uses=tuple(None if rec is None else _plan_uses(rec) for rec in records),
    )


def _index_series(runs: Sequence[Run]) -> tuple[IndexSeries, ...]:
    tables: dict[str, str] = {}
    scans: dict[str, list[int | None]] = {}
    for position, run in enumerate(runs):
        for usage in run.results.meta.index_usage:
            tables[usage.index] = usage.table
            scans.setdefault(usage.index, [None] * len(runs))[position] = usage.scans
    return tuple(
        IndexSeries(name, tables[name], tuple(scans[name]))
        for name in sorted(scans, key=lambda n: (tables[n], n))
    )


# --------------------------------------------------------------------------- change points


@dataclass(frozen=True)
class _Found:
    subject: str
    feature: str
    metric: str
    kind: str
    steps: list[Step]
    values: Sequence[Any]


def _detect(
    benchmarks: Sequence[BenchmarkSeries],
    indexes: Sequence[IndexSeries],
    upto: int,
    detection: Detection,
) -> tuple[list[_Found], list[float]]:
    """Every series' steps over the first ``upto`` runs, and the run levels (median ms)."""
    found: list[_Found] = []
    levels: list[float] = []
    for metric in LATENCY:
        table = {str(b.key): b.values[metric][:upto] for b in benchmarks if metric in b.values}
        run_level = run_levels(table, upto)
        levels = levels or run_level
        for b in benchmarks:
            if metric in b.values:
                values = table[str(b.key)]
                steps = latency_steps(values, run_level, detection)
                # The levels around a step at a typical run's speed: a fast or slow night
                # would otherwise shift the size of the step it happens to be next to.
                steady = [None if v is None else v / run_level[i] for i, v in enumerate(values)]
                found.append(_Found(str(b.key), b.key.feature, metric, "latency", steps, steady))
    flat = [1.0] * upto
    found.append(
        _Found(WHOLE_RUN, "", "level", "latency", latency_steps(levels, flat, detection), levels)
    )
    for b in benchmarks:
        for metric in WORK:
            if metric in b.values:
                values = b.values[metric][:upto]
                found.append(
                    _Found(
                        str(b.key),
                        b.key.feature,
                        metric,
                        "work",
                        work_steps(values, detection),
                        values,
                    )
                )
        if "rows" in b.values:
            rows = b.values["rows"][:upto]
            found.append(_Found(str(b.key), b.key.feature, "rows", "rows", exact_steps(rows), rows))
        plans = list(zip(b.plans[:upto], b.plan_uses[:upto], strict=True))
        shapes = [p for p, _ in plans]
        described = [None if p is None else f"{p} ({u})" for p, u in plans]
        found.append(
            _Found(str(b.key), b.key.feature, "plan", "plan", exact_steps(shapes), described)
        )
    for ix in indexes:
        scans = ix.scans[:upto]
        found.append(_Found(ix.index, "", "scans", "index", usage_steps(scans), scans))
    return found, levels


def _level(values: Sequence[Any], start: int, stop: int) -> float | str | None:
    present = [v for v in values[start:stop] if v is not None]
    if not present:
        return None
    if isinstance(present[0], str):
        return str(present[0])
    return float(median([float(v) for v in present]))


def _points(found: _Found, runs: Sequence[Run]) -> list[ChangePoint]:
    bounds = [0, *(s.position for s in found.steps), len(found.values)]
    points = []
    for i, step in enumerate(found.steps):
        exact = found.kind != "latency"
        # An exact change is from the last value before it to the value of its run.
        before = (
            _level(found.values, bounds[i], step.position)
            if not exact
            else _last(found.values, step.position)
        )
        after = (
            _level(found.values, step.position, bounds[i + 2])
            if not exact
            else found.values[step.position]
        )
        if before is None or after is None:
            continue
        change = (
            after / before - 1
            if isinstance(before, float) and isinstance(after, (int, float)) and before
            else None
        )
        run = runs[step.position]
        points.append(
            ChangePoint(
                subject=found.subject,
                feature=found.feature,
                metric=found.metric,
                kind=found.kind,
                position=step.position,
                commit=run.commit,
                date=run.created_at,
                before=before,
                after=float(after) if isinstance(after, (int, float)) else str(after),
                change=change,
                pvalue=step.pvalue,
            )
        )
    return points


def _last(values: Sequence[Any], position: int) -> Any:
    present = [v for v in values[:position] if v is not None]
    if not present:
        return None
    return float(present[-1]) if isinstance(present[-1], (int, float)) else present[-1]


def _is_new(point: ChangePoint, earlier: Sequence[ChangePoint]) -> bool:
    # Otava may place yesterday's step one run to the side once a run is added: same step.
    return not any(
        e.ident == point.ident and abs(e.position - point.position) <= 1 for e in earlier
    )


def build_history(
    runs: Sequence[Run], skipped: Sequence[Skipped] = (), detection: Detection | None = None
) -> History:
    """The series of every benchmark and index over ``runs``, and their change points."""
    detection = detection or Detection()
    keys = sorted({b.key for r in runs for b in r.results.benchmarks})
    benchmarks = tuple(_benchmark_series(k, runs) for k in keys)
    indexes = _index_series(runs)
    found, levels = _detect(benchmarks, indexes, len(runs), detection)
    points = [p for f in found for p in _points(f, runs)]
    if len(runs) > 1:
        before, _ = _detect(benchmarks, indexes, len(runs) - 1, detection)
        earlier = [p for f in before for p in _points(f, runs)]
        points = [replace_new(p, new=_is_new(p, earlier)) for p in points]
    return History(
        runs=tuple(runs),
        skipped=tuple(skipped),
        benchmarks=benchmarks,
        indexes=indexes,
        run_level=tuple(levels),
        change_points=tuple(
            sorted(points, key=lambda p: (p.position, p.kind, p.subject, p.metric))
        ),
        detection=detection,
    )


def replace_new(point: ChangePoint, *, new: bool) -> ChangePoint:
    """The change point, marked new or not."""
    from dataclasses import replace

    return replace(point, new=new)
