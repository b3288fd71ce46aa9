"""The template lifecycle, one for every kind of template (seeded data, bench = data + indexes).

A template is named ``<prefix><profile>_<content hash>``: the same content gives the same
name, so an unchanged schema, seed data or index file is reused, not rebuilt. A build runs
under a temporary ``pgperf_run_*`` name (a killed build is dropped like any stale run) and is
renamed only once complete, after the content hash was written to its bookkeeping table:
nothing that looks finished can be half-built.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from pgperf.data import database
from pgperf.provision import ServerHandle

Base = str | Callable[[], str | None] | None


@dataclass(frozen=True)
class TemplateKind:
    """One kind of template: its name prefix, a short label and its completion key."""

    prefix: str  # e.g. "pgperf_seed_"
    label: str  # e.g. "seed": part of the build's temporary name
    complete_key: str  # pgperf.meta key that holds the content hash once the build is done

    def name(self, profile: str, digest: str) -> str:
        """The template's name for a profile and content hash."""
        return database.check_name(f"{self.prefix}{profile}_{digest}")


SEEDED = TemplateKind("pgperf_seed_", "seed", "seed_hash")
BENCH = TemplateKind("pgperf_bench_", "bench", "bench_hash")


@dataclass(frozen=True)
class Template:
    """A template database, its content hash, and whether this call reused or built it."""

    name: str
    reused: bool
    content_hash: str
    seconds: float

    @property
    def verb(self) -> str:
        """``reused`` or ``built``, for a progress note."""
        return "reused" if self.reused else "built"


def read_key(server: ServerHandle, name: str, key: str) -> str | None:
    """One bookkeeping value of a database, None if it or the key is absent."""
    if not database.exists(server, name):
        return None
    with server.connect(name) as conn:
        return database.read_meta(conn, key)


def is_complete(server: ServerHandle, kind: TemplateKind, name: str, digest: str) -> bool:
    """Whether ``name`` exists and its build finished (its completion key holds ``digest``)."""
    return read_key(server, name, kind.complete_key) == digest


def ensure_template(
    server: ServerHandle,
    kind: TemplateKind,
    *,
    profile: str,
    digest: str,
    build: Callable[[str], None],
    base: Base = None,
) -> Template:
    """Reuse the complete template of this content hash, or build it with ``build(dsn)``.

    ``base`` is what the build starts from: a template to clone (or a function naming one,
    asked only when a build is needed), or None for an empty database.
    """
    started = time.perf_counter()
    name = kind.name(profile, digest)
    if is_complete(server, kind, name, digest):
        seconds = time.perf_counter() - started
        return Template(name, reused=True, content_hash=digest, seconds=seconds)
    database.drop_database(server, name)  # a database of this name that is not complete
    origin = base() if callable(base) else base
    build_name = f"{database.RUN_PREFIX}{kind.label}_{digest}_{secrets.token_hex(4)}"
    dsn = database.create_database(server, build_name, template=origin)
    try:
        build(dsn)
        with database.connect(dsn) as conn:
            database.write_meta(conn, kind.complete_key, digest)
        database.rename_build(server, build_name, name)
    except BaseException:
        database.drop_database(server, build_name)
        raise
    return Template(name, reused=False, content_hash=digest, seconds=time.perf_counter() - started)


def templates_of(server: ServerHandle, kind: TemplateKind, profile: str) -> list[str]:
    """The templates of one kind and profile on the server (not those of ``<profile>_more``)."""
    exact = re.compile(rf"{re.escape(kind.prefix + profile)}_[0-9a-f]{{16}}")
    return [n for n in database.list_owned(server, kind.prefix + profile) if exact.fullmatch(n)]


def prune(server: ServerHandle, kind: TemplateKind, profile: str, *, keep: Collection[str]) -> None:
    """Drop the templates of one kind and profile that are not in ``keep``."""
    for name in templates_of(server, kind, profile):
        if name not in keep:
            database.drop_database(server, name)
