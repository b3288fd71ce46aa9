"""Apply sql/performance_indexes.sql index by index, rebuilding only what changed.

The engine records a hash of each index's two statements in ``pgperf.applied_indexes``.
Applying the file again creates the new indexes, drops and recreates the ones whose
statements changed, drops the ones removed from the file and leaves the rest untouched.
Every statement runs in autocommit, so ``CREATE INDEX CONCURRENTLY`` works; a failed build
never leaves an INVALID index behind.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from pgperf.data import database
from pgperf.data.sqlfile import Statement
from pgperf.errors import SqlFileError
from pgperf.files import engine_sql, file_hash
from pgperf.indexes.indexfile import IndexDef, file_error, parse_index_file
from pgperf.progress import QuietReporter, Reporter, Task


def _engine_sql(name: str) -> str:
    return engine_sql("pgperf.indexes", name)


@dataclass(frozen=True)
class AppliedIndex:
    """What applying the file did to one index."""

    name: str
    table: str
    action: str  # created | rebuilt | unchanged | dropped
    seconds: float

    @property
    def line(self) -> str:
        """One progress line: name, action, seconds."""
        return f"{self.name:<44} {self.action:<9} {self.seconds:7.2f}s"


@dataclass(frozen=True)
class ApplyReport:
    """What one application of the index file did, index by index."""

    indexes: tuple[AppliedIndex, ...]
    seconds: float
    # The non-index statements (e.g. SET STATISTICS) differ from the last application.
    other_changed: bool = False

    def count(self, action: str) -> int:
        """How many indexes got this action."""
        return sum(1 for i in self.indexes if i.action == action)

    @property
    def built(self) -> tuple[str, ...]:
        """Names of the indexes created or rebuilt."""
        return tuple(i.name for i in self.indexes if i.action in ("created", "rebuilt"))

    def summary(self) -> str:
        """One line: counts per action and the time taken."""
        counts = ", ".join(
            f"{self.count(a)} {a}" for a in ("created", "rebuilt", "dropped", "unchanged")
        )
        return f"indexes: {counts} in {self.seconds:.1f}s"


def _index_state(conn: database.Connection, name: str) -> tuple[bool, int] | None:
    row = conn.execute(_engine_sql("indexes_state.sql"), {"name": name}).fetchone()
    return None if row is None else (bool(row[0]), int(str(row[1])))


def _drop_index(conn: database.Connection, name: str, *, concurrently: bool) -> None:
    statement = (
        "DROP INDEX CONCURRENTLY IF EXISTS {}" if concurrently else "DROP INDEX IF EXISTS {}"
    )
    conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


def _run(conn: database.Connection, path: Path, stmt: Statement, *, index: str | None) -> None:
    try:
        conn.execute(stmt.text.encode())
    except psycopg.Error as exc:
        what = f"index {index}: " if index else ""
        raise file_error(
            path,
            stmt.line,
            f"{what}{exc.diag.message_primary or str(exc).strip()}",
            hint="fix the statement at that line and run again; indexes already built are "
            "kept and this one was removed, so no INVALID index is left behind",
        ) from exc


def _build(conn: database.Connection, path: Path, index: IndexDef) -> float:
    """Drop whatever has the name (old definition or INVALID leftover), create, comment."""
    _drop_index(conn, index.name, concurrently=index.concurrently)
    started = time.perf_counter()
    try:
        _run(conn, path, index.create, index=index.name)
        if index.comment is not None:
            _run(conn, path, index.comment, index=index.name)
    except SqlFileError:
        # A failed CONCURRENTLY build leaves an INVALID index; an unrecorded one must go too.
        _drop_index(conn, index.name, concurrently=False)
        raise
    return time.perf_counter() - started


def _record(conn: database.Connection, index: IndexDef, seconds: float) -> None:
    state = _index_state(conn, index.name)
    conn.execute(
        _engine_sql("indexes_record.sql"),
        {
            "name": index.name,
            "table_name": index.table,
            "statement_hash": index.digest,
            "line": index.create.line,
            "seconds": seconds,
            "size_bytes": state[1] if state else 0,
        },
    )


def _drop_removed(
    conn: database.Connection, recorded: dict[str, tuple[str, str]], wanted: set[str]
) -> list[AppliedIndex]:
    dropped: list[AppliedIndex] = []
    for name in sorted(set(recorded) - wanted):
        started = time.perf_counter()
        _drop_index(conn, name, concurrently=False)
        conn.execute(_engine_sql("indexes_forget.sql"), {"name": name})
        dropped.append(
            AppliedIndex(name, recorded[name][1], "dropped", time.perf_counter() - started)
        )
    return dropped


def _apply_one(
    conn: database.Connection, path: Path, index: IndexDef, recorded: dict[str, tuple[str, str]]
) -> AppliedIndex:
    state = _index_state(conn, index.name)
    previous = recorded.get(index.name)
    if previous is not None and previous[0] == index.digest and state and state[0]:
        return AppliedIndex(index.name, index.table, "unchanged", 0.0)
    seconds = _build(conn, path, index)
    _record(conn, index, seconds)
    return AppliedIndex(index.name, index.table, "rebuilt" if previous else "created", seconds)


def apply_index_file(
    conn: database.Connection, path: Path, *, reporter: Reporter | None = None
) -> ApplyReport:
    """Bring the database's indexes in line with ``path``: build only what is new or changed."""
    if not conn.autocommit:
        raise SqlFileError(
            f"{path}: the index file must be applied on an autocommit connection",
            hint="use pgperf.data.database.connect(dsn); CREATE INDEX CONCURRENTLY cannot run "
            "in a transaction",
        )
    out = reporter or QuietReporter()
    started = time.perf_counter()
    parsed = parse_index_file(path)
    conn.execute(_engine_sql("indexes_applied_table.sql"))
    for stmt in parsed.other:
        _run(conn, path, stmt, index=None)
    other_changed = database.read_meta(conn, "index_other_hash") != parsed.other_digest
    database.write_meta(conn, "index_other_hash", parsed.other_digest)
    rows = conn.execute(_engine_sql("indexes_recorded.sql")).fetchall()
    recorded = {str(r[0]): (str(r[1]), str(r[2])) for r in rows}
    with out.task("indexes", total=len(parsed.indexes), unit="indexes") as task:
        results = _drop_removed(conn, recorded, {i.name for i in parsed.indexes})
        for done in results:
            task.detail(done.line)
        for index in parsed.indexes:
            results.append(_apply_reported(conn, path, index, recorded, task))
    report = ApplyReport(tuple(results), time.perf_counter() - started, other_changed)
    out.note(report.summary())
    return report


def _apply_reported(
    conn: database.Connection,
    path: Path,
    index: IndexDef,
    recorded: dict[str, tuple[str, str]],
    task: Task,
) -> AppliedIndex:
    task.working_on(index.name)
    result = _apply_one(conn, path, index, recorded)
    task.advance()
    if result.action != "unchanged":
        task.detail(result.line)
    return result


def apply_monitoring(conn: database.Connection, path: Path) -> bool:
    """Apply sql/monitoring.sql unless this exact file already was; True if applied."""
    wanted = file_hash(path)
    if database.read_meta(conn, "monitoring_hash") == wanted:
        return False
    database.apply_sql_file(conn, path)
    database.write_meta(conn, "monitoring_hash", wanted)
    return True


def materialized_views(conn: database.Connection) -> list[str]:
    """Qualified names of the database's materialized views outside system schemas."""
    rows = conn.execute(_engine_sql("indexes_matviews.sql")).fetchall()
    return [str(r[0]) for r in rows]


def expression_tables(conn: database.Connection, names: Sequence[str]) -> list[str]:
    """Tables ("schema.table") of those indexes that index an expression."""
    rows = conn.execute(_engine_sql("indexes_expression_tables.sql"), {"names": list(names)})
    return [f"{r[0]}.{r[1]}" for r in rows.fetchall()]


def analyze_changed(
    conn: database.Connection, report: ApplyReport, *, monitoring: bool, full: bool
) -> None:
    """ANALYZE what the application changed: everything, or only what new indexes need."""
    # Statistics settings may have changed with the file's non-index statements.
    everything = full or report.other_changed
    if everything:
        conn.execute("ANALYZE")
    views = materialized_views(conn) if monitoring or everything else []
    _analyze(conn, [] if everything else expression_tables(conn, report.built), views)


def _analyze(conn: database.Connection, tables: Sequence[str], views: Sequence[str]) -> None:
    # Expression indexes get their own statistics only from ANALYZE of their table (a plain
    # index needs none: CREATE INDEX records its size); a new materialized view also needs
    # its visibility map (VACUUM) for index-only scans.
    for table in tables:
        schema, _, name = table.partition(".")
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, name)))
    for view in views:
        schema, _, name = view.partition(".")
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(schema, name)))
