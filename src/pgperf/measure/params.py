"""Parameters of catalog statements: ``%(name)s`` placeholders and where each value comes from.

A query's metadata maps each placeholder to a *source*, parsed once when the catalog loads:

* ``"persona"`` — the measured user's id (:class:`Persona`);
* ``"data_now"`` — the data's reference time from ``pgperf.meta`` (:class:`DataNow`);
* ``"pick:NAME"`` — a column of the one-row picker ``_pickers/NAME.sql`` (:class:`Pick`);
* ``"step"`` — a RETURNING column of an earlier write step (:class:`Step`);
* anything else — a literal (:class:`Literal`): objects are sent as jsonb, arrays as arrays.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal as Style

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from pgperf.data.database import META_SCHEMA, Connection
from pgperf.errors import PgperfError

Params = dict[str, object]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
_PICK = "pick:"


class MeasureError(PgperfError):
    """A statement of the catalog could not be parameterised, run or explained."""


@dataclass(frozen=True)
class Persona:
    """The id of the user a benchmark is measured for."""

    def __str__(self) -> str:
        return "persona"


@dataclass(frozen=True)
class DataNow:
    """The data's reference time (``pgperf.meta`` key ``data_now``)."""

    def __str__(self) -> str:
        return "data_now"


@dataclass(frozen=True)
class Step:
    """The same-named RETURNING column of an earlier write step."""

    def __str__(self) -> str:
        return "step"


@dataclass(frozen=True)
class Pick:
    """A column of a one-row picker query."""

    picker: str

    def __str__(self) -> str:
        return f"{_PICK}{self.picker}"


@dataclass(frozen=True)
class Literal:
    """A fixed value."""

    value: object


Source = Persona | DataNow | Step | Pick | Literal


def parse_source(raw: object) -> Source:
    """The source a metadata value names."""
    if raw == "persona":
        return Persona()
    if raw == "data_now":
        return DataNow()
    if raw == "step":
        return Step()
    if isinstance(raw, str) and raw.startswith(_PICK):
        return Pick(raw[len(_PICK) :])
    return Literal(raw)


def placeholders(text: str) -> list[str]:
    """Names of the ``%(name)s`` placeholders of a statement, in order of first appearance."""
    names: list[str] = []
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) and match.group(1) not in names:
            names.append(match.group(1))
    return names


def stray_percent(text: str) -> bool:
    """Whether ``text`` holds a ``%`` that is neither a placeholder nor ``%%``."""
    return "%" in _PLACEHOLDER.sub("", text)


def to_positional(text: str, *, style: Style["dollar", "colon"] = "dollar") -> str:
    """The statement with ``%(name)s`` as ``$n`` (PREPARE) or ``:name`` (pgbench)."""
    names = placeholders(text)

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        return f"${names.index(name) + 1}" if style == "dollar" else f":{name}"

    return _PLACEHOLDER.sub(swap, text)


def persona_user(conn: Connection, persona: str) -> int:
    """The user id seeding recorded for a persona in ``pgperf.personas``."""
    row = conn.execute(
        sql.SQL("SELECT user_id FROM {}.personas WHERE persona = %s").format(
            sql.Identifier(META_SCHEMA)
        ),
        [persona],
    ).fetchone()
    if row is None or row[0] is None:
        raise MeasureError(
            f"no user recorded for persona {persona!r} in {META_SCHEMA}.personas",
            hint="the database must be a clone of a seeded template (seeding records personas)",
        )
    return int(str(row[0]))


def data_now(conn: Connection) -> object:
    """The data's reference time (``pgperf.meta`` key ``data_now``) as a timestamptz."""
    row = conn.execute(
        sql.SQL("SELECT value::timestamptz FROM {}.meta WHERE key = 'data_now'").format(
            sql.Identifier(META_SCHEMA)
        )
    ).fetchone()
    if row is None:
        raise MeasureError(
            f"{META_SCHEMA}.meta has no 'data_now'",
            hint="seeding stores the data's reference time; use a seeded clone",
        )
    return row[0]


def _literal(value: object) -> object:
    # Objects are jsonb documents; lists stay lists, which psycopg sends as arrays.
    return Jsonb(value) if isinstance(value, dict) else value


def run_picker(conn: Connection, picker_sql: str, context: Mapping[str, object]) -> Params:
    """The one row a picker returns, as column -> value."""
    try:
        cur = conn.execute(picker_sql, dict(context))
    except (KeyError, psycopg.Error) as exc:
        raise MeasureError(
            f"picker failed: {exc}", hint=f"its context was {sorted(context)}"
        ) from exc
    row = cur.fetchone()
    if row is None or cur.description is None:
        raise MeasureError("picker returned no row", hint="give it a fallback row (UNION ALL)")
    return {col.name: value for col, value in zip(cur.description, row, strict=True)}


def resolve_params(
    conn: Connection,
    params: Mapping[str, Source],
    *,
    pickers: Mapping[str, str],
    persona: str | None = None,
    user_id: int | None = None,
    now: object | None = None,
) -> Params:
    """Concrete values for a statement's sources, for a persona (or a given user id)."""
    values: Params = {}
    for name, source in params.items():
        if isinstance(source, Persona):
            values[name] = user_id if user_id is not None else persona_user(conn, persona or "")
        elif isinstance(source, DataNow):
            values[name] = now if now is not None else data_now(conn)
        elif isinstance(source, Literal):
            values[name] = _literal(source.value)
    picked: dict[str, Params] = {}
    for name, source in params.items():
        if isinstance(source, Pick):
            if source.picker not in picked:
                picked[source.picker] = run_picker(conn, pickers[source.picker], values)
            if name not in picked[source.picker]:
                raise MeasureError(f"picker {source.picker!r} returns no column {name!r}")
            values[name] = _literal(picked[source.picker][name])
    return values  # Step values are filled in at run time from the earlier step's row
