"""What a read returns, in a few bytes: its row count and checksums, and a hash of its SQL.

A result is digested once per benchmark, outside the timed rounds. The checksum is
order-sensitive when the statement's top level has an ORDER BY (PostgreSQL's parser, via
pglast, tells), else order-insensitive; both are kept, so a changed order can be told from
changed rows. Values are written canonically (timestamps in UTC, jsonb with sorted keys),
so the session's TimeZone or a dictionary's order never changes a checksum.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pglast
from pglast import ast
from pglast.stream import RawStream

from pgperf.measure.params import to_positional
from pgperf.verdict.record import ResultDigest


def _canonical(value: object) -> object:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).isoformat()
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)  # Decimal, date, time, interval, UUID, ...: their text is exact


def _row_hash(row: Sequence[Any]) -> bytes:
    text = json.dumps([_canonical(v) for v in row], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).digest()


def _parsed(text: str) -> Any | None:
    try:
        return pglast.parse_sql(to_positional(text))[0].stmt
    except pglast.parser.ParseError:
        return None


def is_ordered(text: str) -> bool:
    """Whether the statement's top level sorts its rows (an ORDER BY the caller relies on)."""
    statement = _parsed(text)
    return isinstance(statement, ast.SelectStmt) and bool(statement.sortClause)


def sql_hash(text: str) -> str:
    """A hash of the statement as PostgreSQL reads it: comments and layout do not count."""
    statement = _parsed(text)
    canonical = RawStream()(statement) if statement is not None else " ".join(text.split())
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def digest(text: str, rows: Sequence[Sequence[Any]]) -> ResultDigest:
    """The digest of ``rows``, the result of ``text``."""
    hashes = [_row_hash(row) for row in rows]
    ordered = hashlib.sha256(b"".join(hashes)).hexdigest()[:16]
    unordered = hashlib.sha256(b"".join(sorted(hashes))).hexdigest()[:16]
    in_order = is_ordered(text)
    return ResultDigest(
        rows=len(rows),
        checksum=ordered if in_order else unordered,
        unordered=unordered,
        ordered=in_order,
        sql=sql_hash(text),
    )
