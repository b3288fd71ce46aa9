"""pgperf.stats: percentiles, Mann-Whitney U, spread — pure functions over samples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgperf import stats

finite = st.floats(min_value=0.001, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(st.lists(finite, min_size=1, max_size=60), st.floats(min_value=0, max_value=100))
def test_percentile_matches_numpy_linear(samples: list[float], q: float) -> None:
    assert stats.percentile(samples, q) == pytest.approx(np.percentile(samples, q), rel=1e-9)


def test_median_of_even_count_interpolates() -> None:
    assert stats.median([4.0, 1.0, 3.0, 2.0]) == 2.5


@pytest.mark.parametrize(("samples", "q"), [([], 50), ([1.0], -1), ([1.0], 101)])
def test_percentile_rejects_no_samples_and_bad_q(samples: list[float], q: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        stats.percentile(samples, q)


def test_mann_whitney_finds_a_clear_shift_with_five_rounds() -> None:
    baseline = [1.0, 1.1, 1.2, 1.3, 1.4]
    current = [x * 1.5 for x in baseline]
    assert stats.mann_whitney_p(current, baseline, alternative="greater") < 0.01
    assert stats.mann_whitney_p(current, baseline, alternative="less") > 0.5


def test_mann_whitney_cannot_be_significant_with_four_rounds() -> None:
    # The smallest exact one-sided p with 4 vs 4 rounds is 1/70 > 0.01: too few rounds to gate.
    assert stats.mann_whitney_p([2, 3, 4, 5], [0.1, 0.2, 0.3, 0.4], alternative="greater") > 0.01


@pytest.mark.parametrize(
    ("current", "baseline"), [([], [1.0]), ([1.0], []), ([2.0, 2.0], [2.0, 2.0, 2.0])]
)
def test_mann_whitney_without_evidence_is_one(current: list[float], baseline: list[float]) -> None:
    assert stats.mann_whitney_p(current, baseline, alternative="greater") == 1.0


def test_relative_change() -> None:
    assert stats.relative_change(10.0, 12.5) == pytest.approx(0.25)
    assert stats.relative_change(0.0, 3.0) is None


def test_spread_is_max_over_min_of_positive_values() -> None:
    assert stats.spread([10.0, 12.0, 11.0, 0.0]) == pytest.approx(1.2)
    with pytest.raises(ValueError, match="spread"):
        stats.spread([0.0])


def test_geometric_mean_of_ratios() -> None:
    assert stats.geometric_mean([2.0, 0.5]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="positive"):
        stats.geometric_mean([1.0, -1.0])


def test_summarize() -> None:
    summary = stats.summarize([float(x) for x in range(1, 101)])
    assert (summary.count, summary.minimum, summary.maximum) == (100, 1.0, 100.0)
    assert summary.median == pytest.approx(50.5)
    assert summary.p95 == pytest.approx(95.05)
