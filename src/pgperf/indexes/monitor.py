"""PerformanceMonitor over sql/monitoring.sql: index usage, slow queries, sizes.

Usable by the suite and by the application at runtime: give it a DSN (it opens and owns an
autocommit connection) or an existing connection (it borrows it). The database must have
sql/monitoring.sql applied (every bench template and ``pgperf db up`` database has).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pgperf.data import database
from pgperf.errors import PgperfError
from pgperf.files import engine_sql

#: pg_stat_force_next_flush() exists from PostgreSQL 15 (the release that made stats lazy).
_LAZY_STATS_MAJOR = 15


def _engine_sql(name: str) -> str:
    return engine_sql("pgperf.indexes", name)


@dataclass(frozen=True)
class IndexStats:
    """One index's cumulative counters and what its comment says it is for."""

    schema_name: str
    table_name: str
    index_name: str
    scans: int
    tuples_read: int
    tuples_fetched: int
    size_bytes: int
    category: str
    serves: str | None
    is_unique: bool
    unused: bool


@dataclass(frozen=True)
class UsageSnapshot:
    """Every index's counters at one moment (monotonic clock seconds)."""

    taken_at: float
    indexes: Mapping[str, IndexStats]  # by "schema.index"

    @property
    def total_scans(self) -> int:
        """Scans summed over every index."""
        return sum(s.scans for s in self.indexes.values())


@dataclass(frozen=True)
class IndexUsageDelta:
    """What happened to one index between two snapshots."""

    index_name: str
    table_name: str
    category: str
    size_bytes: int
    scans: int
    tuples_read: int
    tuples_fetched: int

    @property
    def used(self) -> bool:
        """Whether the index was scanned at least once between the snapshots."""
        return self.scans > 0


@dataclass(frozen=True)
class SlowQuery:
    """One pg_stat_statements entry above the slow threshold."""

    queryid: int
    query: str
    calls: int
    total_exec_time: float  # ms, as pg_stat_statements names them
    mean_exec_time: float
    max_exec_time: float
    rows: int
    shared_blks_hit: int
    shared_blks_read: int


@dataclass(frozen=True)
class RelationSize:
    """One table's (or materialized view's) size: heap, indexes, TOAST."""

    schema_name: str
    table_name: str
    estimated_rows: int
    table_bytes: int
    index_bytes: int
    toast_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class RebuildResult:
    """One REINDEX INDEX CONCURRENTLY that ran, and how long it took."""

    index_name: str
    reason: str
    statement: str
    seconds: float


class PerformanceMonitor:
    """Index usage snapshots and deltas, slow queries, unused indexes, sizes, rebuilds."""

    def __init__(self, target: str | database.Connection) -> None:
        self._owned = isinstance(target, str)
        self.conn: database.Connection = (
            database.connect(target) if isinstance(target, str) else target
        )

    def __enter__(self) -> PerformanceMonitor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection if the monitor opened it (a borrowed one stays open)."""
        if self._owned:
            self.conn.close()

    def _rows(self, name: str, params: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        try:
            with self.conn.cursor(row_factory=dict_row) as cur:
                return cur.execute(_engine_sql(name), params).fetchall()
        except psycopg.errors.UndefinedTable as exc:
            raise PgperfError(
                f"monitoring query {name} failed: {exc.diag.message_primary}",
                hint="apply sql/monitoring.sql to this database first "
                "(pgperf.indexes.apply.apply_monitoring); bench templates have it",
            ) from exc

    def snapshot(self) -> UsageSnapshot:
        """Every index's counters now (the stats snapshot is cleared first, so never stale)."""
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        rows = self._rows("monitor_index_usage.sql")
        stats = {f"{r['schema_name']}.{r['index_name']}": IndexStats(**r) for r in rows}
        return UsageSnapshot(time.monotonic(), stats)

    @staticmethod
    def delta(before: UsageSnapshot, after: UsageSnapshot) -> list[IndexUsageDelta]:
        """Per index, what the counters moved by between two snapshots."""
        deltas: list[IndexUsageDelta] = []
        for key, now in sorted(after.indexes.items()):
            then = before.indexes.get(key)
            deltas.append(
                IndexUsageDelta(
                    index_name=now.index_name,
                    table_name=now.table_name,
                    category=now.category,
                    size_bytes=now.size_bytes,
                    scans=now.scans - (then.scans if then else 0),
                    tuples_read=now.tuples_read - (then.tuples_read if then else 0),
                    tuples_fetched=now.tuples_fetched - (then.tuples_fetched if then else 0),
                )
            )
        return deltas

    @staticmethod
    def flush_session_stats(conn: database.Connection) -> None:
        """Make ``conn``'s session publish its pending statistics now (PostgreSQL 15+)."""
        if conn.info.server_version // 10000 >= _LAZY_STATS_MAJOR:
            conn.execute(_engine_sql("monitor_flush_stats.sql"))

    def wait_for_scans(
        self, before: UsageSnapshot, *, at_least: int = 1, timeout_s: float = 15.0
    ) -> UsageSnapshot:
        """Poll until at least ``at_least`` more index scans are visible, or the deadline.

        For sessions the caller cannot flush (an application's pool): PostgreSQL 15 publishes
        an idle backend's statistics within about 10 s, older releases within ~0.5 s.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            after = self.snapshot()
            if after.total_scans - before.total_scans >= at_least:
                return after
            if time.monotonic() >= deadline:
                raise PgperfError(
                    f"index statistics did not move by {at_least} scan(s) within {timeout_s:.0f}s",
                    hint="flush the querying session with PerformanceMonitor.flush_session_stats"
                    "(conn), or raise timeout_s",
                )
            time.sleep(0.1)  # polling the statistics views against a deadline

    def index_usage(self) -> list[IndexStats]:
        """Every index's cumulative counters."""
        return list(self.snapshot().indexes.values())

    def unused_indexes(self) -> list[IndexStats]:
        """Indexes never scanned since the stats began, not backing a constraint."""
        return sorted(
            (s for s in self.index_usage() if s.unused), key=lambda s: s.size_bytes, reverse=True
        )

    def slow_queries(self, *, min_mean_ms: float = 100.0, limit: int = 50) -> list[SlowQuery]:
        """pg_stat_statements entries of this database whose mean time exceeds the threshold."""
        rows = self._rows("monitor_slow_queries.sql", {"min_mean_ms": min_mean_ms, "limit": limit})
        return [SlowQuery(**r) for r in rows]

    def relation_sizes(self) -> list[RelationSize]:
        """Tables and materialized views, largest first: heap, index and TOAST bytes."""
        return [RelationSize(**r) for r in self._rows("monitor_relation_sizes.sql")]

    def index_sizes(self) -> list[tuple[str, str, int]]:
        """(index, table, bytes) for every index, largest first."""
        stats = sorted(self.index_usage(), key=lambda s: s.size_bytes, reverse=True)
        return [(s.index_name, s.table_name, s.size_bytes) for s in stats]

    def rebuild_statements(
        self, *, max_leaf_density: float = 70.0, min_size_bytes: int = 1 << 20
    ) -> list[tuple[str, str, str]]:
        """(index, reason, REINDEX INDEX CONCURRENTLY ...) for every bloated or invalid index."""
        params = {"max_leaf_density": max_leaf_density, "min_size_bytes": min_size_bytes}
        rows = self._rows("monitor_rebuild_statements.sql", params)
        return [(str(r["index_name"]), str(r["reason"]), str(r["statement"])) for r in rows]

    def rebuild_indexes(self, statements: Sequence[tuple[str, str, str]]) -> list[RebuildResult]:
        """Run REINDEX ... CONCURRENTLY statements one by one, outside any transaction."""
        if not self.conn.autocommit:
            raise PgperfError(
                "REINDEX INDEX CONCURRENTLY cannot run inside a transaction block",
                hint="give PerformanceMonitor a DSN or an autocommit connection",
            )
        results: list[RebuildResult] = []
        for index_name, reason, statement in statements:
            started = time.perf_counter()
            self.conn.execute(statement.encode())
            results.append(
                RebuildResult(index_name, reason, statement, time.perf_counter() - started)
            )
        return results
