"""The seeding engine: stream generated rows with COPY into a template database, reuse it by hash.

The engine knows no platform table. The platform's generators live in ``fixtures/`` (a package
loaded by path) and hand over a :class:`SeedPlan`: tables in FK order, each a stream of
COPY-text chunks, plus SQL to run after the load and values for ``pgperf.meta``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import queue
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Protocol, cast

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from pgperf import database
from pgperf.config import Config
from pgperf.errors import SeedError
from pgperf.progress import Reporter, make_reporter
from pgperf.provision import ServerHandle

#: Bump when the engine changes how rows land in the database (part of the content hash).
ENGINE_FORMAT = "1"
TEMPLATE_PREFIX = "pgperf_seed_"
#: Builds happen under a run-style name, so a killed build is dropped like a stale run.
BUILD_PREFIX = f"{database.RUN_PREFIX}seed_"
#: The module name the fixtures package is registered under while loaded.
GENERATORS_MODULE = "pgperf_fixtures"
_PROFILE_NAME = re.compile(r"^[a-z0-9_]{1,20}$")
#: Attribute of the loaded package holding the hash of the files it was imported from.
_FILES_HASH = "__pgperf_files_hash__"

Chunk = tuple[int, str]  # (rows in the chunk, their COPY text)
#: Chunks formatted ahead of the COPY that sends them (bounds memory: ~30 MB a chunk).
PREFETCH_CHUNKS = 3


@dataclass(frozen=True)
class Template:
    """A seeded template database, and whether this call reused or built it."""

    name: str
    reused: bool
    content_hash: str
    seconds: float


@dataclass(frozen=True)
class TableLoad:
    """One table to load: its columns and a stream of COPY-text chunks."""

    table: str
    columns: tuple[str, ...]
    expected_rows: int  # for the progress bar; the actual count may differ a little
    chunks: Callable[[], Iterable[Chunk]]


@dataclass(frozen=True)
class SeedPlan:
    """What the generators hand the engine: tables in FK order, post-load SQL, meta values."""

    tables: tuple[TableLoad, ...]
    after_load: tuple[Path, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)


class Generators(Protocol):
    """The contract a fixtures package fulfils (module-level functions)."""

    def profile_names(self) -> Sequence[str]:
        """Names of the volume profiles the package defines."""
        ...

    def fingerprint(self) -> str:
        """Versions of whatever the output depends on besides the files (e.g. Faker)."""
        ...

    def seed_plan(self, profile: str, seed: int) -> SeedPlan:
        """The tables to load for ``profile`` and ``seed``."""
        ...


def load_generators(fixtures_dir: Path) -> Generators:
    """Import the fixtures package from ``fixtures_dir/__init__.py`` and check its contract."""
    init = fixtures_dir / "__init__.py"
    if not init.is_file():
        raise SeedError(
            f"no data generators found: {init} does not exist",
            hint="the project's fixtures/ folder must be a package exposing seed_plan()",
        )
    files = database.file_hash(fixtures_dir)
    loaded = sys.modules.get(GENERATORS_MODULE)
    # Re-imported when the files changed since: the content hash must describe the code run.
    if (
        loaded is None
        or Path(str(loaded.__file__)) != init
        or getattr(loaded, _FILES_HASH, None) != files
    ):
        loaded = _import_package(init)
        setattr(loaded, _FILES_HASH, files)
    missing = [n for n in ("profile_names", "fingerprint", "seed_plan") if not hasattr(loaded, n)]
    if missing:
        raise SeedError(
            f"{init} lacks {', '.join(missing)}, which the seeding engine calls",
            hint="define them at module level (see pgperf.seeding.Generators)",
        )
    return cast(Generators, loaded)


def _import_package(init: Path) -> ModuleType:
    # Registered under one fixed name so the package's own relative imports work.
    spec = importlib.util.spec_from_file_location(
        GENERATORS_MODULE, init, submodule_search_locations=[str(init.parent)]
    )
    if spec is None or spec.loader is None:
        raise SeedError(f"cannot import the data generators from {init}")
    for name in [m for m in sys.modules if m.split(".")[0] == GENERATORS_MODULE]:
        del sys.modules[name]  # a different fixtures folder was loaded before
    module = importlib.util.module_from_spec(spec)
    sys.modules[GENERATORS_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[GENERATORS_MODULE]
        raise
    return module


def check_profile(generators: Generators, profile: str) -> str:
    """Return ``profile`` if the generators define it and it fits a database name, else refuse."""
    names = list(generators.profile_names())
    if profile not in names:
        raise SeedError(
            f"unknown volume profile {profile!r}; the fixtures define {', '.join(names)}",
            hint="pass --profile with one of those (or set PGPERF_PROFILE)",
        )
    if not _PROFILE_NAME.match(profile):
        raise SeedError(
            f"profile name {profile!r} cannot be part of a database name",
            hint="rename it in the profiles file: lowercase letters, digits and _, at most 20",
        )
    return profile


def content_hash(config: Config, generators: Generators) -> str:
    """Hash over schema.sql, fixtures/, profile, seed and the generators' fingerprint."""
    digest = hashlib.sha256()
    for part in (
        ENGINE_FORMAT,
        database.file_hash(config.sql_dir / "schema.sql"),
        str(getattr(generators, _FILES_HASH, None) or database.file_hash(config.fixtures_dir)),
        config.profile,
        str(config.seed),
        generators.fingerprint(),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def template_name(profile: str, digest: str) -> str:
    """The name of the seeded template for a profile and content hash."""
    return database.check_name(f"{TEMPLATE_PREFIX}{profile}_{digest}")


def is_complete(server: ServerHandle, name: str, digest: str) -> bool:
    """Whether ``name`` exists and its seeding finished (its ``seed_hash`` is ``digest``)."""
    if not database.exists(server, name):
        return False
    with server.connect(name) as conn:
        return database.read_meta(conn, "seed_hash") == digest


def ensure_seeded_template(
    server: ServerHandle, config: Config, *, progress: bool = True
) -> Template:
    """Reuse the seeded template of this content hash, or build it; say which it was."""
    started = time.perf_counter()
    generators = load_generators(config.fixtures_dir)
    profile = check_profile(generators, config.profile)
    digest = content_hash(config, generators)
    name = template_name(profile, digest)
    reporter = make_reporter(enabled=progress)
    reused = is_complete(server, name, digest)
    if not reused:
        # A database of this name that is not complete is a leftover: rebuild it.
        database.drop_database(server, name)
        plan = generators.seed_plan(profile, config.seed)
        _build(server, config, plan, name=name, digest=digest, reporter=reporter)
    template = Template(name, reused, digest, time.perf_counter() - started)
    verb = "reused" if template.reused else "seeded"
    reporter.note(f"{verb} template {name} in {template.seconds:.1f}s")
    return template


def _build(
    server: ServerHandle,
    config: Config,
    plan: SeedPlan,
    *,
    name: str,
    digest: str,
    reporter: Reporter,
) -> None:
    # Built under a temporary name and renamed last: an interrupted build never looks done.
    build = f"{BUILD_PREFIX}{digest}_{secrets.token_hex(4)}"
    dsn = database.create_database(server, build)
    try:
        seed_database(dsn, config.sql_dir / "schema.sql", plan, reporter=reporter)
        with database.connect(dsn) as conn:
            database.write_meta(conn, "seed_hash", digest)
        database.rename_build(server, build, name)
    except BaseException:
        database.drop_database(server, build)
        raise


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
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


def copy_table(conn: database.Connection, load: TableLoad, reporter: Reporter) -> int:
    """Stream one table's chunks with COPY (FREEZE: the table must be new in this transaction)."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FREEZE)").format(
        sql.Identifier(load.table), sql.SQL(", ").join(map(sql.Identifier, load.columns))
    )
    rows = 0
    with reporter.table(load.table, load.expected_rows) as advance:
        try:
            # The queued writer sends on a thread, so the server parses one chunk while
            # Python formats the next.
            with conn.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
                for count, text in load.chunks():
                    copy.write(text)
                    rows += count
                    advance(count)
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
    rows = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype = 'f' "
        "AND connamespace = 'public'::regnamespace ORDER BY conrelid, conname"
    ).fetchall()
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
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND is_identity = 'YES' AND table_name = ANY(%s)",
        [list(tables)],
    ).fetchall()
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
