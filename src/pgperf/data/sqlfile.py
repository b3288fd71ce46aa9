"""Split a SQL file into statements with the line each starts on, by PostgreSQL's own parser.

pglast wraps libpg_query, the server's lexer and grammar: escape strings (``E'it\\'s'``),
nested ``/* /* */ */`` comments, dollar quotes and ``BEGIN ATOMIC`` bodies split exactly as
the server would split them. A syntax error is reported with its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pglast

from pgperf.errors import SqlFileError


@dataclass(frozen=True)
class Statement:
    """One statement of a SQL file: its text (no trailing ';') and the line it starts on."""

    text: str
    line: int

    def parsed(self) -> Any:
        """The statement's parse tree (a pglast ``RawStmt.stmt`` node)."""
        return pglast.parse_sql(self.text)[0].stmt


def line_at(text: str, index: int) -> int:
    """The 1-based line of a character index."""
    return text.count("\n", 0, max(index, 0)) + 1


def split_statements(text: str, *, origin: str = "<sql>") -> list[Statement]:
    """The statements of ``text``; comments before a statement are not part of it."""
    try:
        slices = pglast.split(text, only_slices=True)
    except pglast.parser.ParseError as exc:
        message, index = (*exc.args, -1)[:2] if exc.args else (str(exc), -1)
        where = f"{origin}:{line_at(text, int(index))}" if int(index) >= 0 else origin
        raise SqlFileError(
            f"{where}: {message}",
            hint="fix the statement at that line (it was checked by PostgreSQL's own parser)",
        ) from exc
    return [
        Statement(_without_trailing_comments(text[s]), line_at(text, s.start or 0)) for s in slices
    ]


_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})


def _without_trailing_comments(statement: str) -> str:
    """The statement up to its last token: a comment after it belongs to no statement."""
    code = [t for t in pglast.parser.scan(statement) if t.name not in _COMMENTS]
    return statement[: code[-1].end + 1].strip() if code else statement.strip()


def split_file(path: Path) -> list[Statement]:
    """The statements of a SQL file (errors name the file and line)."""
    return split_statements(path.read_text(), origin=str(path))
