"""Databases the suite owns: create, clone from a template, drop, apply SQL, keep bookkeeping."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from pgperf.config import Config
from pgperf.errors import SqlFileError, UnsafeTarget
from pgperf.files import engine_sql, file_hash
from pgperf.provision import ServerHandle, provision
from pgperf.provision.ownership import DATABASE_PREFIX, OWNER_MARK, check_database_name

Connection = psycopg.Connection[tuple[object, ...]]

RUN_PREFIX = "pgperf_run_"

#: The suite's own bookkeeping lives in this schema, never in the platform's tables.
META_SCHEMA = "pgperf"


def _sql(name: str) -> str:
    return engine_sql("pgperf.data", name)


def connect(dsn: str) -> Connection:
    """An autocommit connection to one of the suite's databases."""
    return psycopg.connect(dsn, autocommit=True)


def check_name(name: str) -> str:
    """Return ``name`` if it is a database name the suite may create or drop, else refuse."""
    return check_database_name(name)


def exists(server: ServerHandle, name: str) -> bool:
    """Whether a database of that name exists on the server."""
    with server.connect() as conn:
        return conn.execute(_sql("database_exists.sql"), {"name": name}).fetchone() is not None


def is_owned(conn: Connection, name: str) -> bool:
    """Whether ``name`` exists and carries the suite's ownership mark."""
    row = conn.execute(_sql("database_comment.sql"), {"name": name}).fetchone()
    return bool(row and row[0] and str(row[0]).startswith(OWNER_MARK))


def _mark(conn: Connection, name: str) -> None:
    conn.execute(
        sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(name), sql.Literal(f"{OWNER_MARK} ({name})")
        )
    )


def create_database(server: ServerHandle, name: str, *, template: str | None = None) -> str:
    """Create ``name`` (optionally as a copy of ``template``), mark it as ours; return its DSN."""
    check_name(name)
    with server.connect() as conn:
        if template is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            check_name(template)
            if not is_owned(conn, template):
                raise UnsafeTarget(f"refusing to clone {template!r}: pgperf did not create it")
            conn.execute(_sql("database_disconnect.sql"), {"name": template})
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        _mark(conn, name)
    return server.dsn(name)


def drop_database(server: ServerHandle, name: str) -> None:
    """Drop ``name`` if it exists; refuse a database the suite did not create."""
    check_name(name)
    with server.connect() as conn:
        if conn.execute(_sql("database_exists.sql"), {"name": name}).fetchone() is None:
            return
        if not is_owned(conn, name):
            raise UnsafeTarget(
                f"refusing to drop {name!r}: it lacks pgperf's ownership comment, "
                "so pgperf did not create it; nothing was dropped",
                hint="drop it yourself if it is yours to drop",
            )
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def rename_build(server: ServerHandle, build: str, name: str) -> bool:
    """Rename a finished build to its final name; False if another run got there first.

    Builds happen under a temporary name so an interrupted one never looks complete; when a
    concurrent run on a shared (dsn) server finished the same content first, ours is dropped.
    """
    check_name(build)
    check_name(name)
    with server.connect() as conn:
        try:
            conn.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(build), sql.Identifier(name)
                )
            )
        except psycopg.errors.DuplicateDatabase:
            drop_database(server, build)
            return False
        _mark(conn, name)
    return True


def list_owned(server: ServerHandle, prefix: str = DATABASE_PREFIX) -> list[str]:
    """Names of the databases on the server that the suite created, starting with ``prefix``."""
    with server.connect() as conn:
        pattern = prefix.replace("_", r"\_") + "%"
        rows = conn.execute(_sql("database_list.sql"), {"pattern": pattern}).fetchall()
        return [str(r[0]) for r in rows if is_owned(conn, str(r[0]))]


def drop_stale_runs(server: ServerHandle) -> list[str]:
    """Drop run databases a killed earlier run left in a cluster this run owns alone."""
    stale = list_owned(server, RUN_PREFIX)
    for name in stale:
        drop_database(server, name)
    return stale


@contextmanager
def provisioned(config: Config, *, announce: bool = True) -> Iterator[ServerHandle]:
    """A ready server for the block, with what a killed earlier run left on it cleared."""
    with provision(config, announce=announce) as server:
        if server.persistent and server.backend == "local":
            drop_stale_runs(server)  # the cluster is locked for this run: no one else uses them
        yield server


@contextmanager
def scratch_database(
    server: ServerHandle, *, template: str | None = None, label: str = "db"
) -> Iterator[str]:
    """A database of the suite's own for the block (a clone of ``template`` if given)."""
    name = f"{RUN_PREFIX}{label}_{secrets.token_hex(4)}"
    dsn = create_database(server, name, template=template)
    try:
        yield dsn
    finally:
        drop_database(server, name)


def _line_of(text: str, position: int | None) -> int | None:
    if not position:
        return None
    return text.count("\n", 0, position - 1) + 1


def execute_script(conn: Connection, text: str, *, origin: str) -> None:
    """Run a multi-statement SQL script in one go; errors name ``origin`` and the line."""
    try:
        conn.execute(text.encode())
    except psycopg.Error as exc:
        line = _line_of(text, int(exc.diag.statement_position or 0))
        where = f"{origin}:{line}" if line else origin
        raise SqlFileError(
            f"{where}: {exc.diag.message_primary or str(exc).strip()}",
            hint="fix the statement at that line; the transaction was rolled back",
        ) from exc


def apply_sql_file(conn: Connection, path: Path) -> None:
    """Run every statement of ``path`` in one transaction; an error names the file and line."""
    text = path.read_text()
    with conn.transaction():
        execute_script(conn, text, origin=str(path))


def ensure_meta(conn: Connection) -> None:
    """Create the suite's bookkeeping table (key/value) if it is missing."""
    conn.execute(
        sql.SQL(
            "CREATE SCHEMA IF NOT EXISTS {schema};"
            "CREATE TABLE IF NOT EXISTS {schema}.meta (key text PRIMARY KEY, value text NOT NULL)"
        ).format(schema=sql.Identifier(META_SCHEMA))
    )


def read_meta(conn: Connection, key: str) -> str | None:
    """One value of the bookkeeping table, or None."""
    present = conn.execute("SELECT to_regclass(%s)", [f"{META_SCHEMA}.meta"]).fetchone()
    if not present or present[0] is None:
        return None
    found = conn.execute(
        sql.SQL("SELECT value FROM {}.meta WHERE key = %s").format(sql.Identifier(META_SCHEMA)),
        [key],
    ).fetchone()
    return str(found[0]) if found else None


def write_meta(conn: Connection, key: str, value: str) -> None:
    """Set one value of the bookkeeping table."""
    ensure_meta(conn)
    conn.execute(
        sql.SQL(
            "INSERT INTO {}.meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        ).format(sql.Identifier(META_SCHEMA)),
        [key, value],
    )


def apply_schema(conn: Connection, path: Path) -> bool:
    """Apply the platform schema once: True if applied, False if this exact file already was.

    A database holding a different version of the schema is refused, not patched.
    """
    wanted = file_hash(path)
    applied = read_meta(conn, "schema_hash")
    if applied == wanted:
        return False
    if applied is not None:
        raise SqlFileError(
            f"this database already holds another version of {path.name} "
            f"(hash {applied}, file is {wanted}); refusing to apply it on top",
            hint="use a fresh database (pgperf creates one per run) rather than migrating",
        )
    with conn.transaction():
        execute_script(conn, path.read_text(), origin=str(path))
        write_meta(conn, "schema_hash", wanted)
    return True
