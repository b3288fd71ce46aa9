"""Schema-health checks (the pg-index-health idea): catalog queries in sql/health/*.sql.

Each check is one .sql file returning one row per problem found, taking ``%(schemas)s`` (the
schemas to look at). Most checks fail on any row; some only report (index intersections).
The duplicate-index check reads sql/monitoring.sql's ``duplicate_indexes`` view, so run the
checks on a database with the monitoring layer applied (every bench database has it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pgperf.data import database
from pgperf.errors import SqlFileError

#: The platform's schema; the suite's own (pgperf) and the monitoring objects are not tables.
DEFAULT_SCHEMAS: tuple[str, ...] = ("public",)


@dataclass(frozen=True)
class Check:
    """One health check: its SQL file (by stem) and whether a finding fails the run."""

    name: str
    fails: bool
    what: str


CHECKS: tuple[Check, ...] = (
    Check("invalid_indexes", fails=True, what="no INVALID index"),
    Check("duplicate_indexes", fails=True, what="no exact or prefix-covered duplicate index"),
    Check("intersecting_indexes", fails=False, what="indexes sharing a leading column"),
    Check("foreign_keys_without_index", fails=True, what="every foreign key has an index"),
    Check("tables_without_primary_key", fails=True, what="every table has a primary key"),
    Check("json_columns", fails=True, what="no json column (jsonb instead)"),
    Check("mutable_index_expressions", fails=True, what="index expressions/predicates IMMUTABLE"),
    Check(
        "matviews_without_unique_index",
        fails=True,
        what="every materialized view has a plain unique index",
    ),
)


@dataclass(frozen=True)
class CheckResult:
    """What one check found: one dict per problem row."""

    check: Check
    rows: tuple[dict[str, Any], ...]

    @property
    def passed(self) -> bool:
        """True when nothing was found, or the check only reports."""
        return not self.rows or not self.check.fails

    def describe(self) -> str:
        """The check, its verdict and every row found, one per line."""
        verdict = "ok" if not self.rows else ("FAILED" if self.check.fails else "reported")
        lines = [f"{self.check.name} ({self.check.what}): {verdict}, {len(self.rows)} found"]
        lines += ["  " + ", ".join(f"{k}={v}" for k, v in row.items()) for row in self.rows]
        return "\n".join(lines)


def check_by_name(name: str) -> Check:
    """The check of that name."""
    for check in CHECKS:
        if check.name == name:
            return check
    raise KeyError(f"no health check named {name!r}; known: {[c.name for c in CHECKS]}")


def run_check(
    conn: database.Connection,
    health_dir: Path,
    check: Check,
    *,
    schemas: Sequence[str] = DEFAULT_SCHEMAS,
) -> CheckResult:
    """Run one check's SQL file against ``conn``."""
    path = health_dir / f"{check.name}.sql"
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(path.read_text(), {"schemas": list(schemas)}).fetchall()
    except psycopg.Error as exc:
        raise SqlFileError(
            f"{path}: health check {check.name} failed to run: "
            f"{exc.diag.message_primary or str(exc).strip()}",
            hint="run the checks on a database with sql/monitoring.sql applied (a bench "
            "database), and fix the query if the catalog changed",
        ) from exc
    return CheckResult(check, tuple(rows))


def run_health_checks(
    conn: database.Connection, health_dir: Path, *, schemas: Sequence[str] = DEFAULT_SCHEMAS
) -> list[CheckResult]:
    """Run every check; the caller decides what to do with failures."""
    return [run_check(conn, health_dir, check, schemas=schemas) for check in CHECKS]
