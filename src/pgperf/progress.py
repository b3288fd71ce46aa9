"""Progress of long loads: a rich bar per table on a terminal, one line per table otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import ProgressColumn as _ProgressColumn
from rich.text import Text

Advance = Callable[[int], None]


class Reporter(Protocol):
    """Where the seeding engine reports tables as they load, and one-line notes."""

    def table(self, name: str, expected_rows: int) -> AbstractContextManager[Advance]:
        """Report one table's load; the context yields a callable taking rows just loaded."""
        ...

    def note(self, message: str) -> None:
        """One line of information (e.g. "reused template ...")."""
        ...


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds / 1000:,.0f}k rows/s" if seconds > 0 else "-"


class LineReporter:
    """One line per table when it finishes: for CI logs and other non-terminals."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    @contextmanager
    def table(self, name: str, expected_rows: int) -> Iterator[Advance]:
        """Count the rows; print one line when the table is loaded."""
        loaded = [0]
        started = time.perf_counter()

        def advance(rows: int) -> None:
            loaded[0] += rows

        yield advance
        took = time.perf_counter() - started
        print(
            f"pgperf: seed {name:<20} {loaded[0]:>11,} rows {took:7.1f}s "
            f"{_rate(loaded[0], took):>14}",
            file=self.stream,
            flush=True,
        )

    def note(self, message: str) -> None:
        """Print the note on its own line."""
        print(f"pgperf: {message}", file=self.stream, flush=True)


class _RateColumn(_ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        return Text(_rate(int(task.completed), elapsed or 0.0), style="progress.data.speed")


class RichReporter:
    """A progress bar per table (rows, rows/s) on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.console = Console(file=stream)

    @contextmanager
    def table(self, name: str, expected_rows: int) -> Iterator[Advance]:
        """Show a bar for the table while it loads; leave it on screen, completed."""
        with Progress(
            TextColumn("seed {task.description:<20}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            console=self.console,
        ) as bar:
            task = bar.add_task(name, total=max(expected_rows, 1))

            def advance(rows: int) -> None:
                bar.advance(task, rows)

            yield advance
            done = bar.tasks[0].completed
            bar.update(task, total=max(int(done), 1))

    def note(self, message: str) -> None:
        """Print the note under the bars."""
        self.console.print(f"pgperf: {message}", highlight=False)


class QuietReporter:
    """Reports nothing (progress=False)."""

    @contextmanager
    def table(self, name: str, expected_rows: int) -> Iterator[Advance]:
        """Yield a no-op counter."""
        yield lambda rows: None

    def note(self, message: str) -> None:
        """Drop the note."""


def make_reporter(*, enabled: bool, stream: TextIO | None = None) -> Reporter:
    """A rich reporter on a terminal, a line reporter elsewhere, a quiet one when disabled."""
    if not enabled:
        return QuietReporter()
    out = sys.stderr if stream is None else stream
    return RichReporter(out) if out.isatty() else LineReporter(out)
