"""The dsn backend: a server the user already runs, touched only through pgperf_ databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict

from pgperf.errors import BackendUnavailable, UnsafeTarget
from pgperf.files import engine_sql
from pgperf.provision.base import Availability, ServerHandle, read_server_facts
from pgperf.provision.ownership import DATABASE_PREFIX, MAINTENANCE_DATABASES, OWNER_MARK


def _sql(name: str) -> str:
    return engine_sql("pgperf.provision", name)


def _redacted(dsn: str) -> str:
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparsable DSN>"
    params.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in params.items())


def check_target(conn: psycopg.Connection[tuple[object, ...]], dbname: str) -> None:
    """Refuse, before any write, a database pgperf did not create (maintenance dbs are fine)."""
    if dbname in MAINTENANCE_DATABASES:
        return
    row = conn.execute(_sql("database_comment.sql"), {"name": dbname}).fetchone()
    comment = str(row[0]) if row and row[0] else ""
    if dbname.startswith(DATABASE_PREFIX) and comment.startswith(OWNER_MARK):
        return
    raise UnsafeTarget(
        f"refusing to use database {dbname!r}: pgperf did not create it "
        f"(checked: its name starts with {DATABASE_PREFIX!r} and its comment says "
        f"{OWNER_MARK!r}); nothing was written",
        hint="point PGPERF_DSN at the server's maintenance database (dbname=postgres); "
        "pgperf creates, uses and drops only pgperf_* databases of its own",
    )


class DsnBackend:
    """Attach to an existing server; pgperf creates its own databases there."""

    name = "dsn"

    def __init__(self, dsn: str | None) -> None:
        self._dsn = dsn

    def availability(self) -> Availability:
        """Say whether PGPERF_DSN is set and the server answers."""
        if not self._dsn:
            return Availability(
                self.name,
                usable=False,
                detail="PGPERF_DSN is not set",
                hint="set PGPERF_DSN to use a server you run",
            )
        try:
            version, _, _ = read_server_facts(self._dsn)
        except psycopg.Error as exc:
            return Availability(
                self.name,
                usable=False,
                detail=f"{_redacted(self._dsn)} does not answer: {str(exc).strip()}",
                hint="check host, port, user and password of PGPERF_DSN",
            )
        return Availability(
            self.name, usable=True, detail=f"{_redacted(self._dsn)} answers (PostgreSQL {version})"
        )

    @contextmanager
    def start(self) -> Iterator[ServerHandle]:
        """Check the target is safe and the role may create databases, then hand it over."""
        if not self._dsn:
            raise BackendUnavailable("backend 'dsn' needs PGPERF_DSN or --pg-dsn")
        dbname = conninfo_to_dict(self._dsn).get("dbname") or "postgres"
        try:
            with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5) as conn:
                check_target(conn, str(dbname))
                row = conn.execute(_sql("may_create_databases.sql")).fetchone()
        except psycopg.OperationalError as exc:
            raise BackendUnavailable(
                f"cannot connect to {_redacted(self._dsn)}: {str(exc).strip()}",
                hint="check PGPERF_DSN; `pgperf doctor` shows what answers",
            ) from exc
        if not (row and row[0]):
            raise UnsafeTarget(
                f"the role in {_redacted(self._dsn)} may not create databases; nothing was written",
                hint="grant CREATEDB to the role, or use the local or docker backend",
            )
        version, major, settings = read_server_facts(self._dsn)
        yield ServerHandle(self.name, self._dsn, version, major, settings, persistent=True)
