"""What-if runs: measure the suite as if an index were dropped or a planner setting changed.

The what-if itself is a pure record (``pgperf.verdict.record.WhatIf``); this module applies
it. A what-if is applied to one run's clone only (a ``pgperf_run_*`` database), never to a
template: its indexes are dropped there and its settings stored with ``ALTER DATABASE ...
SET``, so every session the benchmarks open afterwards sees them. The results file records
the what-if (``"pgperf"."what_if"``) so a verdict says why plans moved, and a what-if
results file is refused as a baseline. The gate's self-test uses it to inject regressions.
"""

from __future__ import annotations

import difflib
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from pgperf.data.database import RUN_PREFIX
from pgperf.errors import PgperfError
from pgperf.files import engine_sql
from pgperf.verdict.record import WhatIf

#: pg_settings contexts a per-database ``ALTER DATABASE ... SET`` can change.
_DATABASE_CONTEXTS = frozenset({"user", "superuser"})


class WhatIfError(PgperfError):
    """A what-if names an index or a setting that cannot be applied to the run's database."""


def _sql(name: str) -> str:
    return engine_sql("pgperf.measure", name)


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
        for statement in what_if.statements:
            _run(conn, statement)


def _drop_index(conn: psycopg.Connection[Any], name: str) -> None:
    row = conn.execute(_sql("index_schema.sql"), {"name": name}).fetchone()
    if row is None:
        known = [str(r[0]) for r in conn.execute(_sql("index_names.sql")).fetchall()]
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
    row = conn.execute(_sql("setting_context.sql"), {"name": name}).fetchone()
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


def _run(conn: psycopg.Connection[Any], statement: str) -> None:
    try:
        conn.execute(statement.encode())  # the user's own SQL, as written
    except psycopg.Error as exc:
        raise WhatIfError(
            f"--what-if-sql {' '.join(statement.split())[:200]!r}: the server refused it: "
            f"{str(exc).strip()}",
            hint="run the statement in `pgperf db up` first to check it; it runs in the run's "
            "clone, after the dropped indexes and the settings",
        ) from exc
