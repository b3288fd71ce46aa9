"""Performance indexes: apply sql/performance_indexes.sql index by index, rebuild only changes.

Each index of the file is its ``CREATE INDEX`` plus its ``COMMENT ON INDEX``; the engine
records a hash of the two in ``pgperf.applied_indexes``. Applying the file again creates the
new indexes, drops and recreates the ones whose statements changed, drops the ones removed
from the file and leaves the rest untouched. Every statement runs in autocommit, so
``CREATE INDEX CONCURRENTLY`` works; a failed build never leaves an INVALID index behind.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

import psycopg
from psycopg import sql
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pgperf import database
from pgperf.config import Config
from pgperf.errors import SqlFileError
from pgperf.provision import ServerHandle
from pgperf.seeding import Template
from pgperf.sqlsplit import Statement, split_statements

INDEX_FILE = "performance_indexes.sql"
MONITORING_FILE = "monitoring.sql"
BENCH_PREFIX = "pgperf_bench_"
#: Bump when the engine changes how a bench template is built (part of its hash).
ENGINE_FORMAT = "1"

_SQL_DIR = Path(__file__).parent / "sql"
_NAME = r"[a-z_][a-z0-9_$]*"
_CREATE = re.compile(
    r"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_NAME})\s+ON\s+(?:ONLY\s+)?(?P<table>{_NAME})\b",
    re.IGNORECASE,
)
_CREATE_ANY = re.compile(r"^CREATE\s+(?:UNIQUE\s+)?INDEX\b", re.IGNORECASE)
_COMMENT = re.compile(rf"^COMMENT\s+ON\s+INDEX\s+(?P<name>{_NAME})\s+IS\b", re.IGNORECASE)


def _engine_sql(name: str) -> str:
    return (_SQL_DIR / name).read_text()


@dataclass(frozen=True)
class IndexDef:
    """One index of the file: its CREATE statement, its COMMENT, and their hash."""

    name: str
    table: str
    create: Statement
    comment: Statement | None
    concurrently: bool

    @property
    def digest(self) -> str:
        """Hash of the statements with whitespace normalised (comments around them excluded)."""
        parts = [self.create.text] + ([self.comment.text] if self.comment else [])
        joined = "\0".join(" ".join(part.split()) for part in parts)
        return hashlib.sha256(joined.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IndexFile:
    """A parsed index file: the other statements (run first, each time) and the indexes."""

    path: Path
    other: tuple[Statement, ...]
    indexes: tuple[IndexDef, ...]

    @property
    def other_digest(self) -> str:
        """Hash of the non-index statements (whitespace normalised)."""
        joined = "\0".join(" ".join(stmt.text.split()) for stmt in self.other)
        return hashlib.sha256(joined.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class AppliedIndex:
    """What applying the file did to one index."""

    name: str
    table: str
    action: str  # created | rebuilt | unchanged | dropped
    seconds: float


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


def _file_error(path: Path, line: int, message: str, *, hint: str) -> SqlFileError:
    return SqlFileError(f"{path}:{line}: {message}", hint=hint)


def _parse_create(path: Path, stmt: Statement) -> IndexDef:
    match = _CREATE.match(stmt.text)
    if match is None:
        raise _file_error(
            path,
            stmt.line,
            "CREATE INDEX without an explicit lowercase unquoted name and table was found",
            hint="write `CREATE INDEX [CONCURRENTLY] IF NOT EXISTS idx_name ON table ...` so "
            "pgperf can track the index by name",
        )
    return IndexDef(
        name=match["name"].lower(),
        table=match["table"].lower(),
        create=stmt,
        comment=None,
        concurrently=bool(match["concurrently"]),
    )


def _attach_comment(path: Path, stmt: Statement, indexes: dict[str, IndexDef]) -> None:
    match = _COMMENT.match(stmt.text)
    assert match is not None
    name = match["name"].lower()
    found = indexes.get(name)
    if found is None:
        raise _file_error(
            path,
            stmt.line,
            f"COMMENT ON INDEX {name} comes before (or without) its CREATE INDEX",
            hint="put each index's COMMENT right after its CREATE INDEX",
        )
    indexes[name] = IndexDef(found.name, found.table, found.create, stmt, found.concurrently)


def parse_index_file(path: Path) -> IndexFile:
    """Split the file into statements and group each CREATE INDEX with its COMMENT."""
    other: list[Statement] = []
    indexes: dict[str, IndexDef] = {}
    for stmt in split_statements(path.read_text()):
        if _CREATE_ANY.match(stmt.text):
            index = _parse_create(path, stmt)
            if index.name in indexes:
                first = indexes[index.name].create.line
                raise _file_error(
                    path,
                    stmt.line,
                    f"index {index.name} is defined twice (first at line {first})",
                    hint="give each index a unique name",
                )
            indexes[index.name] = index
        elif _COMMENT.match(stmt.text):
            _attach_comment(path, stmt, indexes)
        else:
            other.append(stmt)
    return IndexFile(path, tuple(other), tuple(indexes.values()))


class IndexReporter(Protocol):
    """Where index builds are reported as they happen."""

    def begin(self, total: int) -> None:
        """The file has ``total`` indexes."""
        ...

    def building(self, name: str) -> None:
        """The build of ``name`` starts."""
        ...

    def finished(self, result: AppliedIndex) -> None:
        """One index is done (created, rebuilt, unchanged or dropped)."""
        ...

    def end(self, report: ApplyReport) -> None:
        """Every index is done."""
        ...


class LineIndexReporter:
    """One line per index created, rebuilt or dropped: for CI logs and other non-terminals."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.total = 0
        self.done = 0

    def begin(self, total: int) -> None:
        """Remember the total for the [n/total] counter."""
        self.total = total

    def building(self, name: str) -> None:
        """Nothing: the line comes when the build ends."""

    def finished(self, result: AppliedIndex) -> None:
        """Print the index, what happened and how long it took (unchanged ones are silent)."""
        self.done += result.action != "dropped"
        if result.action != "unchanged":
            print(
                f"pgperf: index [{self.done:>3}/{self.total}] {result.name:<44} "
                f"{result.action:<9} {result.seconds:7.2f}s",
                file=self.stream,
                flush=True,
            )

    def end(self, report: ApplyReport) -> None:
        """Print the summary line."""
        print(f"pgperf: {report.summary()}", file=self.stream, flush=True)


class RichIndexReporter:
    """A bar over the file's indexes with the one being built, and a line per index."""

    def __init__(self, stream: TextIO) -> None:
        self.console = Console(file=stream)
        self.bar = Progress(
            TextColumn("indexes {task.description:<44}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.task = self.bar.add_task("", total=1)

    def begin(self, total: int) -> None:
        """Show the bar."""
        self.bar.update(self.task, total=max(total, 1))
        self.bar.start()

    def building(self, name: str) -> None:
        """Name the index being built."""
        self.bar.update(self.task, description=name)

    def finished(self, result: AppliedIndex) -> None:
        """Advance the bar; print a line for each index that was built or dropped."""
        if result.action != "dropped":
            self.bar.advance(self.task)
        if result.action != "unchanged":
            self.bar.console.print(
                f"  {result.name:<44} {result.action:<9} {result.seconds:7.2f}s", highlight=False
            )

    def end(self, report: ApplyReport) -> None:
        """Close the bar and print the summary."""
        self.bar.update(self.task, description="done")
        self.bar.stop()
        self.console.print(f"pgperf: {report.summary()}", highlight=False)


class QuietIndexReporter:
    """Reports nothing (progress=False)."""

    def begin(self, total: int) -> None:
        """Nothing."""

    def building(self, name: str) -> None:
        """Nothing."""

    def finished(self, result: AppliedIndex) -> None:
        """Nothing."""

    def end(self, report: ApplyReport) -> None:
        """Nothing."""


def make_index_reporter(*, enabled: bool, stream: TextIO | None = None) -> IndexReporter:
    """A rich bar on a terminal, one line per index elsewhere, nothing when disabled."""
    if not enabled:
        return QuietIndexReporter()
    out = sys.stderr if stream is None else stream
    return RichIndexReporter(out) if out.isatty() else LineIndexReporter(out)


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
        raise _file_error(
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
    conn: database.Connection, path: Path, *, reporter: IndexReporter | None = None
) -> ApplyReport:
    """Bring the database's indexes in line with ``path``: build only what is new or changed."""
    if not conn.autocommit:
        raise SqlFileError(
            f"{path}: the index file must be applied on an autocommit connection",
            hint="use pgperf.database.connect(dsn); CREATE INDEX CONCURRENTLY cannot run in a "
            "transaction",
        )
    out = reporter or QuietIndexReporter()
    started = time.perf_counter()
    parsed = parse_index_file(path)
    conn.execute(_engine_sql("indexes_applied_table.sql"))
    for stmt in parsed.other:
        _run(conn, path, stmt, index=None)
    other_changed = database.read_meta(conn, "index_other_hash") != parsed.other_digest
    database.write_meta(conn, "index_other_hash", parsed.other_digest)
    rows = conn.execute(_engine_sql("indexes_recorded.sql")).fetchall()
    recorded = {str(r[0]): (str(r[1]), str(r[2])) for r in rows}
    results = _drop_removed(conn, recorded, {i.name for i in parsed.indexes})
    out.begin(len(parsed.indexes))
    for done in results:
        out.finished(done)
    for index in parsed.indexes:
        out.building(index.name)
        results.append(_apply_one(conn, path, index, recorded))
        out.finished(results[-1])
    report = ApplyReport(tuple(results), time.perf_counter() - started, other_changed)
    out.end(report)
    return report


def apply_monitoring(conn: database.Connection, path: Path) -> bool:
    """Apply sql/monitoring.sql unless this exact file already was; True if applied."""
    wanted = database.file_hash(path)
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


def bench_hash(seeded: Template, config: Config) -> str:
    """Hash of a bench template: the seeded template's hash, the index and monitoring files."""
    digest = hashlib.sha256()
    for part in (
        ENGINE_FORMAT,
        seeded.content_hash,
        database.file_hash(config.sql_dir / INDEX_FILE),
        database.file_hash(config.sql_dir / MONITORING_FILE),
    ):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def bench_template_name(profile: str, digest: str) -> str:
    """The name of the bench template for a profile and bench hash."""
    return database.check_name(f"{BENCH_PREFIX}{profile}_{digest}")


def _bench_meta(server: ServerHandle, name: str, key: str) -> str | None:
    with server.connect(name) as conn:
        return database.read_meta(conn, key)


def _previous_bench(server: ServerHandle, profile: str, seeded: Template) -> str | None:
    """A complete bench template of the same seeded data (only its indexes differ)."""
    for name in database.list_owned(server, f"{BENCH_PREFIX}{profile}_"):
        complete = _bench_meta(server, name, "bench_hash") is not None
        if complete and _bench_meta(server, name, "bench_seed_hash") == seeded.content_hash:
            return name
    return None


def prepare_bench_database(
    dsn: str, config: Config, *, reporter: IndexReporter, full_analyze: bool
) -> ApplyReport:
    """Apply the index file, then monitoring.sql, then ANALYZE what changed, in ``dsn``."""
    with database.connect(dsn) as conn:
        report = apply_index_file(conn, config.sql_dir / INDEX_FILE, reporter=reporter)
        monitoring = apply_monitoring(conn, config.sql_dir / MONITORING_FILE)
        # Statistics settings may have changed with the file's non-index statements.
        everything = full_analyze or report.other_changed
        if everything:
            conn.execute("ANALYZE")
        views = materialized_views(conn) if monitoring or everything else []
        _analyze(conn, [] if everything else expression_tables(conn, report.built), views)
        database.write_meta(conn, "indexes_hash", database.file_hash(config.sql_dir / INDEX_FILE))
    return report


def _build_bench(
    server: ServerHandle,
    config: Config,
    seeded: Template,
    *,
    base: str,
    digest: str,
    progress: bool,
) -> None:
    # Built under a run-style name and renamed last: an interrupted build never looks done,
    # and the next run on the cached cluster drops it like any stale run database.
    build = f"{database.RUN_PREFIX}bench_{digest}_{secrets.token_hex(4)}"
    dsn = database.create_database(server, build, template=base)
    try:
        prepare_bench_database(
            dsn,
            config,
            reporter=make_index_reporter(enabled=progress),
            full_analyze=base == seeded.name,
        )
        with database.connect(dsn) as conn:
            database.write_meta(conn, "bench_seed_hash", seeded.content_hash)
            database.write_meta(conn, "bench_hash", digest)
        database.rename_build(server, build, bench_template_name(config.profile, digest))
    except BaseException:
        database.drop_database(server, build)
        raise


def ensure_bench_template(
    server: ServerHandle, config: Config, seeded: Template, *, progress: bool = True
) -> Template:
    """Reuse the bench template of this hash, or derive it; only changed indexes are built.

    Derived from the previous bench template of the same seeded data when one exists (a file
    copy, then only the differing indexes), else from the seeded template (every index).
    """
    started = time.perf_counter()
    digest = bench_hash(seeded, config)
    name = bench_template_name(config.profile, digest)
    reused = database.exists(server, name) and _bench_meta(server, name, "bench_hash") == digest
    if not reused:
        database.drop_database(server, name)  # an incomplete leftover of that name
        base = _previous_bench(server, config.profile, seeded) or seeded.name
        _build_bench(server, config, seeded, base=base, digest=digest, progress=progress)
        # One bench template per profile: each can weigh as much as the seeded data.
        for old in database.list_owned(server, f"{BENCH_PREFIX}{config.profile}_"):
            if old != name:
                database.drop_database(server, old)
    template = Template(name, reused, digest, time.perf_counter() - started)
    if progress:
        verb = "reused" if reused else "built"
        print(f"pgperf: {verb} bench template {name} in {template.seconds:.1f}s", file=sys.stderr)
    return template
