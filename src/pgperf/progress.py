"""Progress of long work (seeding tables, building indexes): a rich bar on a terminal, one
line per step elsewhere (CI logs), nothing when disabled. One protocol for every stage.

A stage opens a *task* (``seed tasks``: 2,000,000 rows; ``indexes``: 61 indexes), advances
it, names the item in hand and adds detail lines; the reporter decides how that looks.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

_LABEL_WIDTH = 26


class Task(Protocol):
    """One running task of a stage."""

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units are done."""
        ...

    def working_on(self, item: str) -> None:
        """The item in hand (e.g. the index being built)."""
        ...

    def detail(self, text: str) -> None:
        """A line worth keeping (e.g. one index built, and how long it took)."""
        ...


class Reporter(Protocol):
    """Where the stages report their tasks and one-line notes."""

    def task(
        self, label: str, *, total: int, unit: str, rate: bool = False
    ) -> AbstractContextManager[Task]:
        """Report one task of ``total`` units for the block (with its rate, if asked)."""
        ...

    def note(self, message: str) -> None:
        """One line of information (e.g. "reused template ...")."""
        ...


def per_second(done: int, seconds: float, unit: str) -> str:
    """``290k rows/s``; '-' when no time passed."""
    if seconds <= 0:
        return "-"
    per_s = done / seconds
    return f"{per_s / 1000:,.0f}k {unit}/s" if per_s >= 1000 else f"{per_s:,.1f} {unit}/s"


class _Counter:
    def __init__(self, reporter: LineReporter) -> None:
        self.reporter, self.done = reporter, 0

    def advance(self, amount: int = 1) -> None:
        self.done += amount

    def working_on(self, item: str) -> None:
        """Nothing: a log line comes when the item is done."""

    def detail(self, text: str) -> None:
        self.reporter.note(f"  {text}")


class LineReporter:
    """One line per task when it ends, plus its detail lines: for CI logs and pipes."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    @contextmanager
    def task(self, label: str, *, total: int, unit: str, rate: bool = False) -> Iterator[Task]:
        """Count the units; print one line with count and time (and rate) at the end."""
        counter = _Counter(self)
        started = time.perf_counter()
        yield counter
        took = time.perf_counter() - started
        speed = f" {per_second(counter.done, took, unit):>16}" if rate else ""
        self.note(f"{label:<{_LABEL_WIDTH}} {counter.done:>11,} {unit} {took:7.1f}s{speed}")

    def note(self, message: str) -> None:
        """Print the note on its own line."""
        print(f"pgperf: {message}", file=self.stream, flush=True)


class _Bar:
    def __init__(self, bar: Progress, task: TaskID, label: str) -> None:
        self.bar, self.id, self.label = bar, task, label

    def advance(self, amount: int = 1) -> None:
        self.bar.advance(self.id, amount)

    def working_on(self, item: str) -> None:
        self.bar.update(self.id, description=f"{self.label} {item}")

    def detail(self, text: str) -> None:
        self.bar.console.print(f"  {text}", highlight=False)


class RichReporter:
    """A live bar per task (done/total, elapsed), left on screen completed."""

    def __init__(self, stream: TextIO) -> None:
        self.console = Console(file=stream)

    @contextmanager
    def task(self, label: str, *, total: int, unit: str, rate: bool = False) -> Iterator[Task]:
        """Show a bar for the block; its description names the item in hand."""
        with Progress(
            TextColumn(f"{{task.description:<{_LABEL_WIDTH + 20}}}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(unit),
            TimeElapsedColumn(),
            console=self.console,
        ) as bar:
            task = bar.add_task(label, total=max(total, 1))
            yield _Bar(bar, task, label)
            done = bar.tasks[0].completed
            bar.update(task, total=max(int(done), 1), description=label)

    def note(self, message: str) -> None:
        """Print the note under the bars."""
        self.console.print(f"pgperf: {message}", highlight=False)


class _Nothing:
    def advance(self, amount: int = 1) -> None:
        pass

    def working_on(self, item: str) -> None:
        pass

    def detail(self, text: str) -> None:
        pass


class QuietReporter:
    """Reports nothing (progress off)."""

    @contextmanager
    def task(self, label: str, *, total: int, unit: str, rate: bool = False) -> Iterator[Task]:
        """Yield a task that ignores everything."""
        yield _Nothing()

    def note(self, message: str) -> None:
        """Drop the note."""


def make_reporter(*, enabled: bool, stream: TextIO | None = None) -> Reporter:
    """A rich reporter on a terminal, a line reporter elsewhere, a quiet one when disabled."""
    if not enabled:
        return QuietReporter()
    out = sys.stderr if stream is None else stream
    return RichReporter(out) if out.isatty() else LineReporter(out)
