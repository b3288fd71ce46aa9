"""Where a series of runs changed level: latency by E-divisive means, work and plans exactly.

Latency is noisy from run to run, so its change points come from Apache Otava (the Hunter
split/merge over E-divisive means, Fleming et al. 2023), which needs no fixed threshold.
On a shared 2-core machine a whole run is often faster or slower than the one before (every
benchmark of it moves together), so each latency series is first divided by its run's
level: the median, over the run's benchmarks, of each one's value relative to its own
series. The run level is a series of its own. Work (buffers, WAL, temp), rows, plan shapes
and index use are near-deterministic on the same seeded data: they change at the first run
that differs, with no statistics. Pure: no database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pgperf.stats import median


@dataclass(frozen=True)
class Detection:
    """How change points are called."""

    # Otava's significance of a step (t-test of the two sides, after the E-divisive split).
    # 1e-5, not Otava's 1e-3: picking the split that separates the series best makes the
    # t-test's p-value optimistic; at 1e-3 one series in forty showed a step in pure noise.
    max_pvalue: float = 1e-5
    # A latency step smaller than this is not called: below it, two runs on a 2-core box
    # differ by as much for no reason.
    min_change: float = 0.10
    # Runs a new latency level must hold, on either side, before it is called: one slow
    # night is not a change.
    hold: int = 3
    # Buffers jitter by a few percent between identical runs (hint bits, the write paths'
    # own rows: at most 6% in A/A runs here, and ±1 buffer on 18); a change in work is a
    # move beyond this share of the level and beyond ``work_floor`` units.
    work_tolerance: float = 0.10
    work_floor: float = 2.0
    # Otava's sliding window (runs).
    window: int = 30


@dataclass(frozen=True)
class Step:
    """A change point: the position of the first run after it, and its significance if tested."""

    position: int
    pvalue: float | None = None


def run_levels(series: Mapping[str, Sequence[float | None]], runs: int) -> list[float]:
    """Per run, how fast it was as a whole: the median over its benchmarks of value / own median.

    1.0 for a run like the others, 1.3 for one where every benchmark took 30% longer.
    """
    logs: dict[str, list[tuple[int, float]]] = {}
    for name, values in series.items():
        present = [(i, math.log(v)) for i, v in enumerate(values) if v is not None and v > 0]
        if len(present) >= 2:
            centre = median([lv for _, lv in present])
            logs[name] = [(i, lv - centre) for i, lv in present]
    per_run: list[list[float]] = [[] for _ in range(runs)]
    for present in logs.values():
        for i, deviation in present:
            per_run[i].append(deviation)
    return [math.exp(median(d)) if d else 1.0 for d in per_run]


def latency_steps(
    values: Sequence[float | None], levels: Sequence[float], detection: Detection
) -> list[Step]:
    """Otava's change points of one latency series, each run divided by its run's level."""
    from otava.analysis import compute_change_points

    present = [(i, v / levels[i]) for i, v in enumerate(values) if v is not None and v > 0]
    if len(present) < 2 * detection.hold:
        return []
    centre = median([v for _, v in present])
    # Values near 1.0: Otava's magnitude (mean after / mean before - 1) is then the step.
    normalised = [v / centre for _, v in present]
    found, _weak = compute_change_points(
        normalised,
        window_len=detection.window,
        max_pvalue=detection.max_pvalue,
        min_magnitude=detection.min_change,
    )
    last = len(present) - detection.hold
    return [
        Step(present[int(cp.index)][0], float(cp.stats.pvalue))
        for cp in found
        if detection.hold <= int(cp.index) <= last
    ]


def work_steps(values: Sequence[float | None], detection: Detection) -> list[Step]:
    """The runs whose work left the level of the runs since the last change (their median)."""
    steps: list[Step] = []
    segment: list[float] = []
    for i, value in enumerate(values):
        if value is None:
            continue
        if segment:
            level = median(segment)
            allowed = max(detection.work_tolerance * level, detection.work_floor)
            if abs(value - level) > allowed:
                steps.append(Step(i))
                segment = []
        segment.append(value)
    return steps


def exact_steps(values: Sequence[object | None]) -> list[Step]:
    """The runs whose value differs from the last run that had one (rows, plan shapes)."""
    steps: list[Step] = []
    previous: object | None = None
    for i, value in enumerate(values):
        if value is None:
            continue
        if previous is not None and value != previous:
            steps.append(Step(i))
        previous = value
    return steps


def usage_steps(scans: Sequence[int | None]) -> list[Step]:
    """The runs where an index stopped being used (scans fell to 0), or was used again."""
    return exact_steps([None if s is None else s > 0 for s in scans])
