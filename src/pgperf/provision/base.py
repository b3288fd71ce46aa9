"""The provisioning contract: one Protocol every backend implements, and what it hands back."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

import psycopg
from psycopg.conninfo import make_conninfo

from pgperf.files import engine_sql
from pgperf.provision.settings import SERVER_SETTINGS


@dataclass(frozen=True)
class Availability:
    """Whether a backend can give a server here, and the evidence either way."""

    backend: str
    usable: bool
    detail: str
    hint: str = ""


@dataclass(frozen=True)
class ServerHandle:
    """A running PostgreSQL server the suite may use, as every later stage sees it."""

    backend: str
    conninfo: str  # points at the maintenance database
    version: str
    major: int
    settings: Mapping[str, str] = field(default_factory=dict)
    # True when databases survive the run (cached local cluster, dsn server): templates reuse.
    persistent: bool = False

    def dsn(self, dbname: str) -> str:
        """Connection string for one database of this server."""
        return make_conninfo(self.conninfo, dbname=dbname)

    def connect(self, dbname: str | None = None) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit connection to ``dbname`` (default: the maintenance database)."""
        conninfo = self.conninfo if dbname is None else self.dsn(dbname)
        return psycopg.connect(conninfo, autocommit=True)


class Backend(Protocol):
    """A way to get a PostgreSQL server: docker, local or dsn."""

    name: str

    def availability(self) -> Availability:
        """Say, quickly and without side effects, whether this backend works here."""
        ...

    def start(self) -> AbstractContextManager[ServerHandle]:
        """Start (or attach to) a server; leaving the context stops and removes what it made."""
        ...


def read_server_facts(conninfo: str) -> tuple[str, int, dict[str, str]]:
    """Ask a server its version, major and the effective values of the suite's settings."""
    query = engine_sql("pgperf.provision", "server_facts.sql")
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(query, {"names": list(SERVER_SETTINGS)}).fetchone()
    if row is None:
        return "unknown", 0, {}
    version_num, version, settings = row
    values = settings if isinstance(settings, dict) else {}
    return str(version), int(str(version_num)) // 10000, {str(k): str(v) for k, v in values.items()}
