"""What-if runs: measure the suite as if an index were dropped or a planner setting changed.

A what-if is applied to one run's clone only (a ``pgperf_run_*`` database), never to a
template: its indexes are dropped there and its settings stored with ``ALTER DATABASE ...
SET``, so every session the benchmarks open afterwards sees them. The results file records
the what-if (``"pgperf"."what_if"``) so a verdict says why plans moved, and a what-if
results file is refused as a baseline. The gate's self-test uses it to inject regressions.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from pgperf.database import RUN_PREFIX
from pgperf.errors import PgperfError

#: pg_settings contexts a per-database ``ALTER DATABASE ... SET`` can change.
_DATABASE_CONTEXTS = frozenset({"user", "superuser"})


class WhatIfError(PgperfError):
    """A what-if names an index or a setting that cannot be applied to the run's database."""


@dataclass(frozen=True)
class WhatIf:
    """Indexes to drop and settings to change in a run's clone before it is measured."""

    drop_indexes: tuple[str, ...] = ()
    settings: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.drop_indexes or self.settings)

    def as_metadata(self) -> dict[str, Any]:
        """The results file's ``"what_if"`` object."""
        return {"drop_indexes": list(self.drop_indexes), "settings": dict(self.settings)}

    def cli_args(self) -> list[str]:
        """The pytest options that ask for this what-if (to run the suite in a subprocess)."""
        args: list[str] = []
        for name in self.drop_indexes:
            args += ["--what-if-drop-index", name]
        for name, value in self.settings:
            args += ["--what-if-setting", f"{name}={value}"]
        return args


def parse_setting(text: str) -> tuple[str, str]:
    """``name=value`` -> (name, value); a ValueError says what a setting must look like."""
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value:
        raise ValueError(f"{text!r} is not NAME=VALUE (e.g. enable_indexscan=off)")
    return name, value


def from_options(drop_indexes: Iterable[str] | None, settings: Iterable[str] | None) -> WhatIf:
    """The what-if of the command line (``--what-if-drop-index``, ``--what-if-setting``)."""
    parsed = [parse_setting(s) for s in settings or ()]
    return WhatIf(drop_indexes=tuple(drop_indexes or ()), settings=tuple(parsed))


# --------------------------------------------------------------------------- applying


def apply(dsn: str, what_if: WhatIf) -> None:
    """Drop the what-if's indexes in the clone at ``dsn`` and store its settings on it."""
    if not what_if:
        return
    dbname = str(conninfo_to_dict(dsn).get("dbname") or "")
    if not dbname.startswith(RUN_PREFIX):
        raise WhatIfError(
            f"refusing a what-if on database {dbname!r}: only a run's clone "
            f"({RUN_PREFIX}*) may be changed, never a template",
            hint="what-ifs are applied by the bench_db fixture to its own clone",
        )
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in what_if.drop_indexes:
            _drop_index(conn, name)
        for name, value in what_if.settings:
            _set(conn, dbname, name, value)


def _drop_index(conn: psycopg.Connection[Any], name: str) -> None:
    row = conn.execute(
        "SELECT schemaname FROM pg_indexes WHERE indexname = %s "
        "AND schemaname NOT IN ('pg_catalog', 'information_schema')",
        [name],
    ).fetchone()
    if row is None:
        known = [str(r[0]) for r in conn.execute("SELECT indexname FROM pg_indexes").fetchall()]
        close = difflib.get_close_matches(name, known, n=3)
        raise WhatIfError(
            f"--what-if-drop-index {name}: no such index in the benchmark database "
            "(checked pg_indexes)",
            hint=f"did you mean {', '.join(close)}?"
            if close
            else "see sql/performance_indexes.sql for the index names",
        )
    try:
        conn.execute(
            sql.SQL("DROP INDEX {}.{}").format(sql.Identifier(row[0]), sql.Identifier(name))
        )
    except psycopg.DatabaseError as exc:  # e.g. the index of a primary key or unique constraint
        raise WhatIfError(
            f"--what-if-drop-index {name}: the server refused to drop it: {str(exc).strip()}",
            hint="a constraint's index goes only with its constraint; pick a plain index",
        ) from exc


def _set(conn: psycopg.Connection[Any], dbname: str, name: str, value: str) -> None:
    row = conn.execute(
        "SELECT name, context FROM pg_settings WHERE name = lower(%s)", [name]
    ).fetchone()
    if row is None:
        raise WhatIfError(
            f"--what-if-setting {name}={value}: {name!r} is not a PostgreSQL setting "
            "(checked pg_settings)",
            hint="e.g. enable_indexscan=off, random_page_cost=4, work_mem=4MB",
        )
    if row[1] not in _DATABASE_CONTEXTS:
        raise WhatIfError(
            f"--what-if-setting {name}={value}: {row[0]} has context {row[1]!r}, which a "
            "database-level setting cannot change (only 'user' and 'superuser' settings can)",
            hint="change it on the server instead (a server start option or postgresql.conf)",
        )
    statement = sql.SQL("ALTER DATABASE {} SET {} = {}").format(
        sql.Identifier(dbname), sql.Identifier(str(row[0])), sql.Literal(value)
    )
    try:
        conn.execute(statement)
    except psycopg.DatabaseError as exc:
        raise WhatIfError(
            f"--what-if-setting {name}={value}: the server refused it: {str(exc).strip()}",
            hint="use a value SET accepts for this setting (see pg_settings.vartype); "
            "a 'superuser' setting needs a superuser role",
        ) from exc
