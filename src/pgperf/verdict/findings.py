"""The vocabulary of the verdict: rules, what a finding means, statuses, thresholds. Pure.

A :class:`Finding` is one rule's observation about one benchmark; a
:class:`BenchmarkVerdict` holds a benchmark's findings in rule order and the status they
decide. The rules themselves are in ``pgperf.verdict.rules``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from pgperf.verdict.paired import PairedChange
from pgperf.verdict.record import BenchmarkKey, BenchmarkRecord

if TYPE_CHECKING:
    from pgperf.config import Config


class Rule(Enum):
    """The verdict's rules, in order of trust (the order they are checked and reported)."""

    RESULT = "result"
    PLAN = "plan"
    WORK = "work"
    LOAD = "load"
    BUDGET = "budget"
    LATENCY = "latency"
    PRESENCE = "presence"  # new in the results or gone from them: listed, never gating


class Kind(Enum):
    """What a finding means for the gate."""

    FAIL = "fail"
    UNSTABLE = "unstable"  # too noisy to tell a regression from none: shown, never a pass
    IMPROVED = "improved"
    WARNING = "warning"  # a changed result whose SQL changed too: shown first, never failing
    INFO = "info"


class Status(Enum):
    """A benchmark's (or a feature's) overall outcome."""

    PASS = "pass"
    FAIL = "fail"
    UNSTABLE = "unstable"  # its latency interval is too wide to decide
    IMPROVED = "improved"
    WARNING = "warning"  # its result changed with its SQL: not failing, never "improved"
    NEW = "new"  # in the results, not in the baseline
    MISSING = "missing"  # in the baseline, not in the results


@dataclass(frozen=True)
class Thresholds:
    """How much change the gate tolerates."""

    regression: float = 0.20
    latency_floor_ms: float = 0.5
    significance: float = 0.01
    # Share of a benchmark's time some task waited for a CPU above which its latency is
    # information only. Alone on the machine the suite stays near 0 (client and server
    # backend take turns); A/A runs beside other work measured 40-65% and medians moving 2x.
    busy_pressure: float = 0.10

    @classmethod
    def from_config(cls, config: Config) -> Thresholds:
        """The thresholds a resolved Config asks for."""
        return cls(
            regression=config.regression_threshold,
            latency_floor_ms=config.latency_floor_ms,
            significance=config.significance,
        )


@dataclass(frozen=True)
class Finding:
    """One observation about a benchmark: which rule, whether it fails, and why (one line)."""

    rule: Rule
    kind: Kind
    message: str


@dataclass(frozen=True)
class BenchmarkVerdict:
    """The verdict on one benchmark; ``findings`` are in rule order, failures decide ``status``."""

    key: BenchmarkKey
    status: Status
    findings: tuple[Finding, ...]
    current: BenchmarkRecord | None
    baseline: BenchmarkRecord | None
    change: float | None = None  # relative change of the median (0.25 is 25% slower)
    p_value: float | None = None  # one-sided Mann-Whitney p of the latency change, when tested
    paired: PairedChange | None = None  # a same-run A/B's change with its interval

    @property
    def feature(self) -> str:
        """The benchmark's feature."""
        return self.key.feature

    @property
    def label(self) -> str:
        """Short display name."""
        return self.key.label

    @property
    def failed(self) -> bool:
        """Whether this benchmark fails the gate."""
        return self.status is Status.FAIL

    @property
    def rule(self) -> Rule | None:
        """The first failing rule in order of trust (None when nothing fails)."""
        return next((f.rule for f in self.findings if f.kind is Kind.FAIL), None)

    @property
    def failures(self) -> tuple[str, ...]:
        """The messages of the failing findings."""
        return tuple(f.message for f in self.findings if f.kind is Kind.FAIL)

    @property
    def reason(self) -> str:
        """One line: the failures, else the improvements, else the information; '' if none."""
        for kind in (Kind.FAIL, Kind.UNSTABLE, Kind.WARNING, Kind.IMPROVED, Kind.INFO):
            messages = [f.message for f in self.findings if f.kind is kind]
            if messages:
                return "; ".join(messages)
        return ""

    @property
    def warnings(self) -> tuple[str, ...]:
        """The messages of the warning findings (results that changed with their SQL)."""
        return tuple(f.message for f in self.findings if f.kind is Kind.WARNING)

    @property
    def baseline_ms(self) -> float | None:
        """The baseline's median in ms."""
        return self.baseline.median_ms if self.baseline else None

    @property
    def current_ms(self) -> float | None:
        """The current median in ms."""
        return self.current.median_ms if self.current else None
