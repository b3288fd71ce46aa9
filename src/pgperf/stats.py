"""Pure statistics over timing samples: percentiles, Mann-Whitney U, run-to-run spread."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Alternative = Literal["greater", "less"]


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation, as numpy's default method."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(samples: Sequence[float]) -> float:
    """The median (50th percentile) of the samples."""
    return percentile(samples, 50)


def mann_whitney_p(
    current: Sequence[float], baseline: Sequence[float], *, alternative: Alternative
) -> float:
    """One-sided Mann-Whitney U p-value that ``current`` is greater (or less) than ``baseline``.

    Returns 1.0 (no evidence) when either side is empty or every value is identical, where the
    test is undefined.
    """
    if not current or not baseline or len(set(current) | set(baseline)) == 1:
        return 1.0
    from scipy.stats import mannwhitneyu  # lazy: scipy costs ~0.3 s to import

    result = mannwhitneyu(list(current), list(baseline), alternative=alternative)
    p_value = float(result.pvalue)
    return 1.0 if math.isnan(p_value) else p_value


def relative_change(baseline: float, current: float) -> float | None:
    """``current / baseline - 1`` (0.2 is 20% more), or None when the baseline is not positive."""
    if baseline <= 0:
        return None
    return current / baseline - 1


def spread(values: Sequence[float]) -> float:
    """Run-to-run spread: the max/min ratio of positive values (1.0 is no spread)."""
    positive = [v for v in values if v > 0]
    if not positive:
        raise ValueError("spread of no positive values")
    return max(positive) / min(positive)


def geometric_mean(values: Sequence[float]) -> float:
    """The geometric mean of positive values (the fair average of ratios)."""
    if not values or any(v <= 0 for v in values):
        raise ValueError("geometric mean needs positive values")
    return math.exp(sum(math.log(v) for v in values) / len(values))


@dataclass(frozen=True)
class SampleSummary:
    """The usual summary of one benchmark's timing samples, in the samples' unit."""

    count: int
    minimum: float
    median: float
    p95: float
    p99: float
    maximum: float


def summarize(samples: Sequence[float]) -> SampleSummary:
    """Summarise non-empty samples: count, min, median, p95, p99, max."""
    return SampleSummary(
        count=len(samples),
        minimum=min(samples),
        median=median(samples),
        p95=percentile(samples, 95),
        p99=percentile(samples, 99),
        maximum=max(samples),
    )
