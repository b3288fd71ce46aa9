"""CPU pressure (Linux PSI): the share of a stretch of time some task waited for a CPU.

A benchmark alone on the machine keeps it near 0: the client and its server backend take
turns (one statement at a time), so neither waits for a core. Other work on the machine
(another test run, a load sweep) makes runnable tasks queue for the cores, and timings then
move by far more than any code change. The verdict uses it to tell "the machine was busy"
from "the code got slower" (pgperf.compare, rule 4).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: Linux >= 4.20 with PSI enabled; absent elsewhere (then pressure is unknown, never 0).
PSI_CPU = Path("/proc/pressure/cpu")


def cpu_stall_us(path: Path = PSI_CPU) -> int | None:
    """Microseconds since boot during which some task waited for a CPU, or None if unknown."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("some "):
            fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            total = fields.get("total", "")
            return int(total) if total.isdigit() else None
    return None


@dataclass
class Pressure:
    """The CPU pressure of one measured stretch; ``share`` is None until it ends or if unknown."""

    share: float | None = None


@contextmanager
def measured(path: Path = PSI_CPU) -> Iterator[Pressure]:
    """Measure the CPU pressure over the block: the share of its wall time some task waited."""
    reading = Pressure()
    before, start = cpu_stall_us(path), time.monotonic()
    try:
        yield reading
    finally:  # a failed benchmark's timings are in the results too, and so is its pressure
        after, wall_us = cpu_stall_us(path), (time.monotonic() - start) * 1e6
        if before is not None and after is not None and wall_us > 0:
            reading.share = min(1.0, max(0.0, (after - before) / wall_us))
