"""Background jobs of a load scenario: a statement repeated on its own connection (e.g. a
materialized-view refresh) while the simulated users send their requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from pgperf.load.tags import BACKGROUND_PREFIX, DictConnection, connect_as, tag


@dataclass(frozen=True)
class Background:
    """A statement repeated on its own connection while the scenario runs (e.g. a refresh)."""

    label: str
    sql: str
    pause_s: float = 0.5


@dataclass(frozen=True)
class BackgroundRuns:
    """How often a background statement ran during the scenario, how long, and its errors."""

    label: str
    durations_ms: tuple[float, ...]
    errors: tuple[str, ...]


class _BackgroundLoop:
    def __init__(self, dsn: str, job: Background, app: str, stop: threading.Event) -> None:
        self.dsn, self.job, self.app, self.stop = dsn, job, app, stop
        self.durations: list[float] = []
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        try:
            with connect_as(self.dsn, self.app) as conn:
                while not self.stop.is_set():
                    self._once(conn)
                    self.stop.wait(self.job.pause_s)
        except psycopg.Error as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0])

    def _once(self, conn: DictConnection) -> None:
        started = time.monotonic()
        try:
            conn.execute(tag(BACKGROUND_PREFIX + self.job.label, self.job.sql), {})
        except psycopg.Error as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0])
            return
        self.durations.append((time.monotonic() - started) * 1000)

    def result(self) -> BackgroundRuns:
        return BackgroundRuns(self.job.label, tuple(self.durations), tuple(self.errors))


class BackgroundJobs:
    """Background statements running on their own connections until ``stop``."""

    def __init__(self, loops: Sequence[_BackgroundLoop], stop: threading.Event) -> None:
        self._loops, self._stop = loops, stop
        self._results: tuple[BackgroundRuns, ...] | None = None

    def stop(self) -> tuple[BackgroundRuns, ...]:
        """Stop after the statement in flight finishes; return what ran (idempotent)."""
        if self._results is None:
            self._stop.set()
            for loop in self._loops:
                loop.thread.join()
            self._results = tuple(loop.result() for loop in self._loops)
        return self._results


@contextmanager
def running(dsn: str, jobs: Sequence[Background], *, app: str) -> Iterator[BackgroundJobs]:
    """Run ``jobs`` in the background for the block; each repeats until stopped."""
    stop = threading.Event()
    loops = [_BackgroundLoop(dsn, job, app, stop) for job in jobs]
    for loop in loops:
        loop.thread.start()
    handle = BackgroundJobs(loops, stop)
    try:
        yield handle
    finally:
        handle.stop()
