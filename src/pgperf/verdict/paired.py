"""The paired statistic of a same-run A/B: the median change, with its interval. Pure.

Round ``i`` of the base arm and round ``i`` of the head arm ran back to back (in random
order), so whatever the machine did at that moment fell on both: the pairs, not the two
samples, are the unit of evidence. Each pair gives a ratio ``head_i / base_i``, in which
what the machine did during that pair cancels; the change is the median of those ratios,
minus one (for a slowdown that multiplies every round it equals the change of the median).
Its 95% confidence interval comes from resampling the pairs (scipy's bootstrap,
percentile), with a seed derived from the benchmark's key, so the same files always give
the same interval. On this project's A/A runs the ratio of the two medians needed intervals
up to 4x wider (±12% where this gives ±3%): it throws the pairing away.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Resamples of the pairs: enough for a stable 95% interval, ~30 ms per benchmark.
RESAMPLES = 2000
CONFIDENCE = 0.95
#: Below this many pairs no interval means anything.
MIN_PAIRS = 5
_SMALLEST_MS = 1e-6


@dataclass(frozen=True)
class PairedChange:
    """The change of the median over ``pairs`` paired rounds, and its confidence interval."""

    change: float  # 0.25 is 25% slower
    low: float
    high: float
    pairs: int
    base_ms: float
    head_ms: float

    @property
    def half_width(self) -> float:
        """Half the interval's width: the smallest change this benchmark can tell apart."""
        return (self.high - self.low) / 2

    @property
    def described(self) -> str:
        """``+12.0% [+9.1%, +15.2%]`` with the medians of both arms."""
        return (
            f"median {_ms(self.base_ms)} → {_ms(self.head_ms)}, paired change "
            f"{self.change:+.1%} [{self.low:+.1%}, {self.high:+.1%}] over {self.pairs} pairs"
        )


def _ms(value: float) -> str:
    return f"{value:.3g} ms" if value < 100 else f"{value:.0f} ms"


def _seed(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


def paired_change(
    base_ms: Sequence[float], head_ms: Sequence[float], *, key: str
) -> PairedChange | None:
    """The paired change of two arms' round timings; None when there are too few pairs."""
    import numpy as np  # lazy: the CLI's start-up stays fast
    from scipy.stats import bootstrap

    if len(base_ms) != len(head_ms):
        raise ValueError(f"{key}: {len(base_ms)} base rounds but {len(head_ms)} head rounds")
    if len(base_ms) < MIN_PAIRS:
        return None
    # A round rounded to 0 ms would make its ratio infinite: no database call is that fast.
    base = np.maximum(np.asarray(base_ms, dtype=float), _SMALLEST_MS)
    head = np.maximum(np.asarray(head_ms, dtype=float), _SMALLEST_MS)

    def ratio(x: Any, y: Any, axis: int = -1) -> Any:
        return np.exp(np.median(np.log(y / x), axis=axis))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a degenerate (constant) sample warns; handled below
        result = bootstrap(
            (base, head),
            ratio,
            paired=True,
            vectorized=True,
            n_resamples=RESAMPLES,
            confidence_level=CONFIDENCE,
            method="percentile",
            rng=np.random.default_rng(_seed(key)),
        )
    point = float(ratio(base, head))
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if not (math.isfinite(low) and math.isfinite(high)):
        low = high = point  # every resample gave the same ratio
    return PairedChange(
        change=point - 1,
        low=min(low, point) - 1,
        high=max(high, point) - 1,
        pairs=len(base),
        base_ms=float(np.median(base)),
        head_ms=float(np.median(head)),
    )
