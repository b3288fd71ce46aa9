"""Fixtures shared by the integration tests (the engine's own fixtures come from the plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pgperf.config import Config
from pgperf.data import database
from pgperf.indexes.template import prepare_bench_database
from pgperf.progress import QuietReporter, Task
from pgperf.provision import ServerHandle

SMALL_DATA = Path(__file__).parent / "sql" / "small_platform.sql"


@pytest.fixture(scope="module")
def small_bench_db(pg_server: ServerHandle, pgperf_config: Config) -> Iterator[str]:
    """Schema + a little data + performance indexes + monitoring: a bench database in small."""
    with database.scratch_database(pg_server, label="small") as dsn:
        with database.connect(dsn) as conn:
            database.apply_schema(conn, pgperf_config.layout.schema_file)
            conn.execute(SMALL_DATA.read_bytes())
        prepare_bench_database(dsn, pgperf_config, reporter=QuietReporter(), full_analyze=True)
        yield dsn


@dataclass
class RecordedTask:
    """One task a stage reported, and everything it said about it."""

    label: str
    total: int
    unit: str
    rate: bool = False
    done: int = 0
    items: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    ended: bool = False

    def advance(self, amount: int = 1) -> None:
        self.done += amount

    def working_on(self, item: str) -> None:
        self.items.append(item)

    def detail(self, text: str) -> None:
        self.details.append(text)


@dataclass
class RecordingReporter:
    """A pgperf.progress.Reporter that keeps what the stages report, for assertions."""

    tasks: list[RecordedTask] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @contextmanager
    def task(self, label: str, *, total: int, unit: str, rate: bool = False) -> Iterator[Task]:
        recorded = RecordedTask(label, total, unit, rate)
        self.tasks.append(recorded)
        yield recorded
        recorded.ended = True

    def note(self, message: str) -> None:
        self.notes.append(message)


@pytest.fixture
def recording_reporter() -> RecordingReporter:
    """A fresh reporter that records every task and note (a RecordingReporter)."""
    return RecordingReporter()
