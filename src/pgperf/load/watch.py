"""The server-side view of a load scenario: statements, waits, locks, CPU."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import psycopg

from pgperf.files import engine_sql
from pgperf.host import machine_busy_ticks, process_cpu_s
from pgperf.load.tags import BACKGROUND_PREFIX, DictConnection, Row, connect_as, label_of

SAMPLE_INTERVAL_S = 0.1


def _sql(name: str) -> str:
    return engine_sql("pgperf.load", name)


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
        return label_of(self.query)

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
        self._conn = connect_as(self.dsn, "pgperf-watch")
        self._sampler_conn = connect_as(self.dsn, "pgperf-watch")
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
