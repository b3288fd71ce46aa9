"""The seeding engine: stream generated rows with COPY into a template, reuse it by hash."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from pgperf.config import Config
from pgperf.data import database
from pgperf.data.generators import (
    Chunk,
    SeedPlan,
    TableLoad,
    check_profile,
    content_hash,
    load_generators,
)
from pgperf.data.templates import SEEDED, Template, ensure_template
from pgperf.errors import SeedError
from pgperf.files import engine_sql
from pgperf.progress import QuietReporter, Reporter
from pgperf.provision import ServerHandle

#: Chunks formatted ahead of the COPY that sends them (bounds memory: ~30 MB a chunk).
PREFETCH_CHUNKS = 3


def _sql(name: str) -> str:
    return engine_sql("pgperf.data", name)


def ensure_seeded_template(
    server: ServerHandle, config: Config, *, reporter: Reporter | None = None
) -> Template:
    """Reuse the seeded template of this content hash, or build it; say which it was."""
    out = reporter or QuietReporter()
    generators = load_generators(config.layout.fixtures_dir)
    profile = check_profile(generators, config.profile)
    digest = content_hash(config, generators)

    def build(dsn: str) -> None:
        plan = generators.seed_plan(profile, config.seed)
        seed_database(dsn, config.layout.schema_file, plan, reporter=out)

    template = ensure_template(server, SEEDED, profile=profile, digest=digest, build=build)
    verb = "reused" if template.reused else "seeded"
    out.note(f"{verb} template {template.name} in {template.seconds:.1f}s")
    return template


def seed_database(
    dsn: str,
    schema: Path,
    plan: SeedPlan,
    *,
    reporter: Reporter,
    validate_foreign_keys: bool = False,
) -> dict[str, int]:
    """Apply the schema and load every table of ``plan`` into ``dsn``; return rows per table.

    As superuser the foreign keys stay in place and their per-row triggers are skipped
    (``session_replication_role = replica``): the generators emit consistent data, and the
    test suite checks it. Otherwise, or with ``validate_foreign_keys``, the keys are dropped
    for the load and re-added, which validates every reference in one pass per key.
    """
    counts: dict[str, int] = {}
    with _Prefetcher(plan.tables) as tables, database.connect(dsn) as conn:
        # One transaction: tables created in it take COPY FREEZE and, at wal_level=minimal,
        # skip WAL; a failure leaves nothing half-loaded behind.
        with conn.transaction():
            database.apply_schema(conn, schema)
            replica = not validate_foreign_keys and _is_superuser(conn)
            if replica:
                conn.execute("SET LOCAL session_replication_role = replica")
            foreign_keys = [] if replica else _drop_foreign_keys(conn)
            for table in tables:
                counts[table.table] = copy_table(conn, table, reporter)
            with _phase(reporter, "foreign keys re-added and validated", skip=replica):
                _restore_foreign_keys(conn, foreign_keys)
            with _phase(reporter, "identities and after-load SQL"):
                _sync_identities(conn, [t.table for t in plan.tables])
                # Meta first: after-load SQL may read it (personas use data_now).
                for key, value in plan.meta.items():
                    database.write_meta(conn, key, value)
                for path in plan.after_load:
                    database.execute_script(conn, path.read_text(), origin=str(path))
        with _phase(reporter, "VACUUM (ANALYZE)"):
            conn.execute("VACUUM (ANALYZE)")
    return counts


class _Prefetcher:
    """Formats every table's chunks on a thread, in plan order, ahead of the COPY."""

    # The server parses one table's last chunks while the next table's arrays are computed
    # (and the schema while the first table's are), instead of one waiting for the other.

    def __init__(self, tables: Sequence[TableLoad]) -> None:
        self.tables = tables
        self.queue: queue.Queue[tuple[int, Chunk | BaseException | None]] = queue.Queue(
            maxsize=PREFETCH_CHUNKS
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._produce, name="pgperf-seed", daemon=True)

    def __enter__(self) -> list[TableLoad]:
        self.thread.start()
        return [
            TableLoad(t.table, t.columns, t.expected_rows, self._reader(i))
            for i, t in enumerate(self.tables)
        ]

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        while self.thread.is_alive():  # unblock a producer waiting for room
            with suppress(queue.Empty):
                self.queue.get(timeout=0.05)
        self.thread.join()

    def _produce(self) -> None:
        try:
            for index, load in enumerate(self.tables):
                for chunk in load.chunks():
                    if not self._put(index, chunk):
                        return  # the load stopped (failed or interrupted): stop formatting
                self._put(index, None)
        except BaseException as exc:  # re-raised by the consuming thread, Ctrl-C included
            self._put(-1, exc)

    def _put(self, index: int, item: Chunk | BaseException | None) -> bool:
        while not self.stop.is_set():
            with suppress(queue.Full):
                self.queue.put((index, item), timeout=0.05)
                return True
        return False

    def _reader(self, index: int) -> Callable[[], Iterator[Chunk]]:
        def chunks() -> Iterator[Chunk]:
            while True:
                source, item = self.queue.get()
                if isinstance(item, BaseException):
                    raise item
                if item is None:
                    return
                assert source == index, "tables must be read in plan order"
                yield item

        return chunks


@contextmanager
def _phase(reporter: Reporter, label: str, *, skip: bool = False) -> Iterator[None]:
    started = time.perf_counter()
    yield
    if not skip:
        reporter.note(f"{label} in {time.perf_counter() - started:.1f}s")


def _is_superuser(conn: database.Connection) -> bool:
    row = conn.execute(_sql("seed_is_superuser.sql")).fetchone()
    return bool(row and row[0])


def copy_table(conn: database.Connection, load: TableLoad, reporter: Reporter) -> int:
    """Stream one table's chunks with COPY (FREEZE: the table must be new in this transaction)."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FREEZE)").format(
        sql.Identifier(load.table), sql.SQL(", ").join(map(sql.Identifier, load.columns))
    )
    rows = 0
    label = f"seed {load.table}"
    with reporter.task(label, total=load.expected_rows, unit="rows", rate=True) as task:
        try:
            # The queued writer sends on a thread, so the server parses one chunk while
            # Python formats the next.
            with conn.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
                for count, text in load.chunks():
                    copy.write(text)
                    rows += count
                    task.advance(count)
        except psycopg.Error as exc:
            raise SeedError(
                f"loading table {load.table!r} failed after about {rows} rows: "
                f"{exc.diag.message_primary or exc}"
                + (f" ({exc.diag.context.strip()})" if exc.diag.context else ""),
                hint="the generated rows broke a constraint of sql/schema.sql: fix the "
                "generator in fixtures/ (or the constraint) and seed again",
            ) from exc
    return rows


@dataclass(frozen=True)
class _ForeignKey:
    table: str
    name: str
    definition: str


def _drop_foreign_keys(conn: database.Connection) -> list[_ForeignKey]:
    # Row-by-row RI triggers would dominate COPY; the keys are re-added (and so validated
    # in one pass per key) once every table is loaded.
    rows = conn.execute(_sql("seed_foreign_keys.sql")).fetchall()
    keys = [_ForeignKey(str(t), str(n), str(d)) for t, n, d in rows]
    for key in keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(key.table), sql.Identifier(key.name)
            )
        )
    return keys


def _restore_foreign_keys(conn: database.Connection, keys: Sequence[_ForeignKey]) -> None:
    for key in keys:
        try:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    sql.Identifier(key.table), sql.Identifier(key.name), sql.SQL(key.definition)
                )
            )
        except psycopg.errors.ForeignKeyViolation as exc:
            raise SeedError(
                f"generated rows of {key.table!r} break foreign key {key.name} "
                f"({key.definition}): {exc.diag.message_detail or exc}",
                hint="a generator in fixtures/ produced a reference to a missing row; fix it",
            ) from exc


def _sync_identities(conn: database.Connection, tables: Sequence[str]) -> None:
    # COPY with explicit ids leaves identity sequences at 1; later INSERTs (write benchmarks)
    # would collide with seeded ids.
    rows = conn.execute(_sql("seed_identities.sql"), {"tables": list(tables)}).fetchall()
    for table, column in rows:
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence({tab}, {col}), "
                "coalesce(max({ident}), 0) + 1, false) FROM {table}"
            ).format(
                tab=sql.Literal(str(table)),
                col=sql.Literal(str(column)),
                ident=sql.Identifier(str(column)),
                table=sql.Identifier(str(table)),
            )
        )
