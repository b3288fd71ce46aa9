"""Databases the suite owns: create, clone from a template, drop, apply SQL files by path."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from pgperf.errors import SqlFileError, UnsafeTarget
from pgperf.provision import ServerHandle
from pgperf.provision.dsn import DATABASE_PREFIX, OWNER_MARK

Connection = psycopg.Connection[tuple[object, ...]]

_NAME = re.compile(r"^pgperf_[a-z0-9_]{1,56}$")
RUN_PREFIX = "pgperf_run_"

#: The suite's own bookkeeping lives in this schema, never in the platform's tables.
META_SCHEMA = "pgperf"


def connect(dsn: str) -> Connection:
    """An autocommit connection to one of the suite's databases."""
    return psycopg.connect(dsn, autocommit=True)


def check_name(name: str) -> str:
    """Return ``name`` if it is a database name the suite may create or drop, else refuse."""
    if not _NAME.match(name):
        raise UnsafeTarget(
            f"refusing database name {name!r}: pgperf only creates and drops databases named "
            f"{DATABASE_PREFIX}<lowercase letters, digits, _> (at most 63 characters)",
        )
    return name


def exists(server: ServerHandle, name: str) -> bool:
    """Whether a database of that name exists on the server."""
    with server.connect() as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def is_owned(conn: Connection, name: str) -> bool:
    """Whether ``name`` exists and carries the suite's ownership mark."""
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [name],
    ).fetchone()
    return bool(row and row[0] and str(row[0]).startswith(OWNER_MARK))


def create_database(server: ServerHandle, name: str, *, template: str | None = None) -> str:
    """Create ``name`` (optionally as a copy of ``template``), mark it as ours; return its DSN."""
    check_name(name)
    with server.connect() as conn:
        if template is not None:
            check_name(template)
            if not is_owned(conn, template):
                raise UnsafeTarget(f"refusing to clone {template!r}: pgperf did not create it")
            # CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [template],
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(f"{OWNER_MARK} ({name})")
            )
        )
    return server.dsn(name)


def drop_database(server: ServerHandle, name: str) -> None:
    """Drop ``name`` if it exists; refuse a database the suite did not create."""
    check_name(name)
    with server.connect() as conn:
        present = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if present is None:
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
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(f"{OWNER_MARK} ({name})")
            )
        )
    return True


def list_owned(server: ServerHandle, prefix: str = DATABASE_PREFIX) -> list[str]:
    """Names of the databases on the server that the suite created, starting with ``prefix``."""
    with server.connect() as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY datname",
            [prefix.replace("_", r"\_") + "%"],
        ).fetchall()
        return [str(r[0]) for r in rows if is_owned(conn, str(r[0]))]


def drop_stale_runs(server: ServerHandle) -> list[str]:
    """Drop run databases a killed earlier run left in a cluster this run owns alone."""
    stale = list_owned(server, RUN_PREFIX)
    for name in stale:
        drop_database(server, name)
    return stale


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


def file_hash(*paths: Path) -> str:
    """A short content hash of files (and of every file under folders), order-independent."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for path in paths:
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in sorted(files):
        if "__pycache__" in file.parts:
            continue
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


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
