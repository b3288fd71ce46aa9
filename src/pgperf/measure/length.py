"""How long each benchmark runs: warm-up rounds, then rounds that fill a time target."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pgperf.measure import explain


@dataclass(frozen=True)
class RunLength:
    """How long each benchmark runs: warm-up, then rounds chosen to fill a time target."""

    warmup_rounds: int
    min_rounds: int
    max_rounds: int
    target_s: float
    # A round slower than this is a multi-second report: one warm-up, then 5 to 20 rounds
    # that fill slow_target_s.
    slow_round_s: float = 1.0
    slow_target_s: float = 60.0
    slow_rounds: tuple[int, int] = (5, 20)

    def rounds_for(self, seconds_per_round: float) -> int:
        """Rounds that fill ``target_s`` at the warm-up's pace, within [min, max]."""
        if seconds_per_round >= self.slow_round_s:
            low, high = self.slow_rounds
            return max(low, min(high, int(self.slow_target_s / seconds_per_round)))
        wanted = int(self.target_s / max(seconds_per_round, 1e-6))
        return max(self.min_rounds, min(self.max_rounds, wanted))


# Why these numbers: p95 needs at least 20 samples to mean anything (the 19th of 20) and the
# baseline's significance test wants 20+ per side; warm-up (3 rounds) prepares the statement
# and pulls its pages into shared_buffers, the steady state the budgets are about. `ci`
# (50 benchmarks, most under 5 ms) spends ~1 s on each: about a minute of measuring on top
# of seeding. `default` spends ~3 s on each fast one. A statement slower than 1 s a round
# (the 2M-task reports and the materialized-view refresh, budget 5 s) gets one warm-up and
# as many rounds as fit in a minute, 20 at most and 5 at least: a 1-3 s report keeps its 20
# samples (with 10, p95 is half the slowest round, and one stall of a shared runner fails
# the budget), while a 30 s refresh, already far over any budget, does not eat the ~10
# minutes `make perf` may spend.
RUN_LENGTHS: Mapping[str, RunLength] = {
    "ci": RunLength(warmup_rounds=3, min_rounds=20, max_rounds=300, target_s=1.0),
    "default": RunLength(warmup_rounds=3, min_rounds=20, max_rounds=1000, target_s=3.0),
    "large": RunLength(warmup_rounds=2, min_rounds=20, max_rounds=1000, target_s=5.0),
}


def run_length(profile: str) -> RunLength:
    """The run length of a profile (unknown profiles run like ``default``)."""
    return RUN_LENGTHS.get(profile, RUN_LENGTHS["default"])


def warm_up(length: RunLength, one_round: Callable[[], object]) -> float:
    """Run the warm-up rounds; return the mean seconds of a round."""
    warm: list[float] = []
    while len(warm) < length.warmup_rounds:
        warm.append(explain.timed(one_round))
        if warm[-1] >= length.slow_round_s:
            break  # one round of a slow report has warmed everything it reads
    return statistics.mean(warm) if warm else 0.0
