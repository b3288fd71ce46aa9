"""The server-side view of a load scenario: statements, waits, locks, CPU; and background jobs."""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row

if TYPE_CHECKING:
    from pgperf.load import Background


def tag(label: str, text: str) -> str:
    """``text`` prefixed with a comment naming it (comments do not change the query id)."""
    return f"/* {label.replace('*/', '* /')} */ {text}"


_SQL_DIR = Path(__file__).parent / "sql"
SAMPLE_INTERVAL_S = 0.1
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

Row = dict[str, Any]
DictConnection = psycopg.Connection[Row]


def _sql(name: str) -> str:
    return (_SQL_DIR / name).read_text()


def _connect(dsn: str, app: str) -> DictConnection:
    return psycopg.connect(dsn, autocommit=True, application_name=app, row_factory=dict_row)


_LABEL = re.compile(r"^/\* (.*?) \*/")
#: Label prefix of background statements (kept apart from the requests' statements).
BACKGROUND_PREFIX = "bg:"


@dataclass(frozen=True)
class StatementDelta:
    """One statement's pg_stat_statements counters over the run."""

    query: str
    calls: int
    total_exec_ms: float
    rows: int
    shared_blks_hit: int
    shared_blks_read: int

    @property
    def label(self) -> str:
        """The ``/* label */`` the engine tagged the statement with ('' if untagged)."""
        found = _LABEL.match(self.query)
        return found.group(1) if found else ""

    @property
    def background(self) -> bool:
        """Whether a background job (not a simulated user) ran it."""
        return self.label.startswith(BACKGROUND_PREFIX)

    @property
    def buffers(self) -> int:
        """Shared buffers touched: hit + read."""
        return self.shared_blks_hit + self.shared_blks_read

    @property
    def mean_exec_ms(self) -> float:
        """Mean server execution time per call."""
        return self.total_exec_ms / self.calls if self.calls else 0.0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "label": self.label,
            "query": self.query,
            "calls": self.calls,
            "mean_exec_ms": round(self.mean_exec_ms, 3),
            "total_exec_ms": round(self.total_exec_ms, 1),
            "rows": self.rows,
            "shared_blks_hit": self.shared_blks_hit,
            "shared_blks_read": self.shared_blks_read,
        }


def _snapshot(conn: DictConnection) -> dict[tuple[str, str], Row]:
    rows = conn.execute(_sql("load_statements.sql")).fetchall()
    return {(r["queryid"], r["userid"]): r for r in rows}


def statement_deltas(
    before: Mapping[tuple[str, str], Row], after: Mapping[tuple[str, str], Row]
) -> tuple[StatementDelta, ...]:
    """Counters that moved between two snapshots, busiest (total time) first."""
    deltas = []
    for key, now in after.items():
        then = before.get(key, {})
        calls = int(now["calls"]) - int(then.get("calls", 0))
        if calls <= 0:
            continue
        deltas.append(
            StatementDelta(
                query=str(now["query"]),
                calls=calls,
                total_exec_ms=float(now["total_exec_time"]) - float(then.get("total_exec_time", 0)),
                rows=int(now["rows"]) - int(then.get("rows", 0)),
                shared_blks_hit=int(now["shared_blks_hit"]) - int(then.get("shared_blks_hit", 0)),
                shared_blks_read=int(now["shared_blks_read"])
                - int(then.get("shared_blks_read", 0)),
            )
        )
    return tuple(sorted(deltas, key=lambda d: -d.total_exec_ms))


def by_label(deltas: Sequence[StatementDelta]) -> tuple[StatementDelta, ...]:
    """One entry per tagged statement, busiest first.

    The same statement can have several query ids: psycopg sends a small int as int2 and a
    larger one as int4/int8, and each parameter type makes its own entry.
    """
    merged: dict[str, StatementDelta] = {}
    for delta in deltas:
        key = delta.label or delta.query
        seen = merged.get(key)
        merged[key] = (
            delta
            if seen is None
            else StatementDelta(
                query=seen.query,
                calls=seen.calls + delta.calls,
                total_exec_ms=seen.total_exec_ms + delta.total_exec_ms,
                rows=seen.rows + delta.rows,
                shared_blks_hit=seen.shared_blks_hit + delta.shared_blks_hit,
                shared_blks_read=seen.shared_blks_read + delta.shared_blks_read,
            )
        )
    return tuple(sorted(merged.values(), key=lambda d: -d.total_exec_ms))


def classify_wait(row: Row) -> str | None:
    """One backend's state in a sample: CPU, a wait event, or None when idle."""
    state, kind, event = row["state"], row["wait_event_type"], row["wait_event"]
    if state == "active":
        return f"{kind}:{event}" if kind else "CPU"
    if state and state.startswith("idle in transaction"):
        return "Client:idle in transaction"
    return None


def process_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) of a local postgres process, None if not visible here."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name, _, rest = stat.partition(") ")
    # A pid from a server in another namespace (docker) may name an unrelated process here.
    if not name.split("(", 1)[-1].startswith("postgres"):
        return None
    fields = rest.split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def machine_busy_ticks() -> tuple[int, int] | None:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(v) for v in first[:8]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return sum(ticks) - idle, sum(ticks)


@dataclass
class _Samples:
    count: int = 0
    waits: Counter[str] = field(default_factory=Counter)
    lock_waiters_max: int = 0
    pids: set[int] = field(default_factory=set)

    def add(self, rows: Sequence[Row]) -> None:
        self.count += 1
        self.pids.update(int(r["pid"]) for r in rows)
        states = [s for r in rows if (s := classify_wait(r))]
        self.waits.update(states)
        locks = sum(1 for s in states if s.startswith("Lock:"))
        self.lock_waiters_max = max(self.lock_waiters_max, locks)


@dataclass(frozen=True)
class ServerView:
    """What the server did during the run."""

    statements: tuple[StatementDelta, ...] | None
    statements_error: str | None
    samples: int
    waits: Mapping[str, int]
    lock_waiters_max: int
    deadlocks: int
    rollbacks: int
    server_cpu_s: float | None
    client_cpu_s: float
    machine_busy: float | None
    wall_s: float
    cores: int

    @property
    def lock_wait_s(self) -> float:
        """Estimated backend-seconds spent waiting on heavyweight locks (sampled)."""
        return sum(n for k, n in self.waits.items() if k.startswith("Lock:")) * SAMPLE_INTERVAL_S

    @property
    def lock_share(self) -> float:
        """Share of busy backend samples that were waiting on a lock."""
        busy = sum(self.waits.values())
        locks = sum(n for k, n in self.waits.items() if k.startswith("Lock:"))
        return locks / busy if busy else 0.0

    def cores_used(self, cpu_s: float | None) -> float | None:
        """CPU seconds over the run as a number of busy cores."""
        return None if cpu_s is None else cpu_s / self.wall_s if self.wall_s else 0.0


class ServerWatch:
    """Snapshots and samples the scenario's database while a run is under way."""

    def __init__(self, dsn: str, *, app: str) -> None:
        self.dsn, self.app = dsn, app
        self._stop = threading.Event()
        self._samples = _Samples()
        self._cpu_before: dict[int, float] = {}
        self._view: ServerView | None = None

    def __enter__(self) -> ServerWatch:
        self._conn = _connect(self.dsn, "pgperf-watch")
        self._sampler_conn = _connect(self.dsn, "pgperf-watch")
        self._before, self._error = self._statements()
        self._db_before = self._database()
        self._cpu_before = self._backend_cpu(self._pids())
        self._machine = machine_busy_ticks()
        self._client, self._wall = time.process_time(), time.monotonic()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._conn.close()
        self._sampler_conn.close()

    def _statements(self) -> tuple[dict[tuple[str, str], Row], str | None]:
        try:
            self._conn.execute(_sql("load_extension.sql"))
            return _snapshot(self._conn), None
        except psycopg.Error as exc:
            return {}, f"pg_stat_statements unavailable: {str(exc).strip().splitlines()[0]}"

    def _database(self) -> Row:
        row = self._conn.execute(_sql("load_database.sql")).fetchone()
        return row or {"deadlocks": 0, "xact_commit": 0, "xact_rollback": 0}

    def _pids(self) -> set[int]:
        rows = self._conn.execute(_sql("load_activity.sql"), {"app": self.app}).fetchall()
        return {int(r["pid"]) for r in rows}

    def _backend_cpu(self, pids: set[int]) -> dict[int, float]:
        return {pid: cpu for pid in pids if (cpu := process_cpu_s(pid)) is not None}

    def _sample(self) -> None:
        query = _sql("load_activity.sql")
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            rows = self._sampler_conn.execute(query, {"app": self.app}).fetchall()
            self._samples.add(rows)

    def stop(self) -> None:
        """Stop sampling and take the closing snapshots (idempotent)."""
        if self._view is not None:
            return
        self._stop.set()
        self._thread.join()
        wall = time.monotonic() - self._wall
        client = time.process_time() - self._client
        self._view = self._close(wall, client)

    def _close(self, wall: float, client: float) -> ServerView:
        after = self._backend_cpu(self._samples.pids | set(self._cpu_before) | self._pids())
        # A backend the pool opened mid-run started from zero CPU.
        server = sum(cpu - self._cpu_before.get(pid, 0.0) for pid, cpu in after.items())
        db = self._database()
        after_statements = {} if self._error else _snapshot(self._conn)
        statements = (
            None if self._error else by_label(statement_deltas(self._before, after_statements))
        )
        return ServerView(
            statements=statements,
            statements_error=self._error,
            samples=self._samples.count,
            waits=dict(self._samples.waits),
            lock_waiters_max=self._samples.lock_waiters_max,
            deadlocks=int(db["deadlocks"]) - int(self._db_before["deadlocks"]),
            rollbacks=int(db["xact_rollback"]) - int(self._db_before["xact_rollback"]),
            server_cpu_s=server if after else None,
            client_cpu_s=client,
            machine_busy=self._machine_busy(),
            wall_s=wall,
            cores=os.cpu_count() or 1,
        )

    def _machine_busy(self) -> float | None:
        now = machine_busy_ticks()
        if now is None or self._machine is None or now[1] == self._machine[1]:
            return None
        return (now[0] - self._machine[0]) / (now[1] - self._machine[1])

    def view(self) -> ServerView:
        """The server-side view of the run (after ``stop``)."""
        if self._view is None:
            raise RuntimeError("ServerWatch.view() before stop()")
        return self._view


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
            with _connect(self.dsn, self.app) as conn:
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
