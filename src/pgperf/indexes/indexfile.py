"""The performance index file: each index is its ``CREATE INDEX`` plus its ``COMMENT ON INDEX``.

Statements are split and read by PostgreSQL's own parser (pglast): the index name, its
table and whether it is built ``CONCURRENTLY`` come from the parse tree, not from a regex.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pglast import ast, enums

from pgperf.data.sqlfile import Statement, split_file
from pgperf.errors import SqlFileError

#: An index name pgperf can track: what PostgreSQL folds an unquoted name to.
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*")


@dataclass(frozen=True)
class IndexDef:
    """One index of the file: its CREATE statement, its COMMENT, and their hash."""

    name: str
    table: str
    create: Statement
    comment: Statement | None
    concurrently: bool

    @property
    def digest(self) -> str:
        """Hash of the statements with whitespace normalised (comments around them excluded)."""
        parts = [self.create.text] + ([self.comment.text] if self.comment else [])
        joined = "\0".join(" ".join(part.split()) for part in parts)
        return hashlib.sha256(joined.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IndexFile:
    """A parsed index file: the other statements (run first, each time) and the indexes."""

    path: Path
    other: tuple[Statement, ...]
    indexes: tuple[IndexDef, ...]

    @property
    def other_digest(self) -> str:
        """Hash of the non-index statements (whitespace normalised)."""
        joined = "\0".join(" ".join(stmt.text.split()) for stmt in self.other)
        return hashlib.sha256(joined.encode()).hexdigest()[:16]


def file_error(path: Path, line: int, message: str, *, hint: str) -> SqlFileError:
    """An error about one line of the index file."""
    return SqlFileError(f"{path}:{line}: {message}", hint=hint)


def _index(path: Path, stmt: Statement, node: ast.IndexStmt) -> IndexDef:
    name = node.idxname
    if not name or not _IDENTIFIER.fullmatch(name) or node.relation is None:
        raise file_error(
            path,
            stmt.line,
            "CREATE INDEX without an explicit lowercase unquoted name was found",
            hint="write `CREATE INDEX [CONCURRENTLY] IF NOT EXISTS idx_name ON table ...` so "
            "pgperf can track the index by name",
        )
    return IndexDef(
        name=name,
        table=str(node.relation.relname),
        create=stmt,
        comment=None,
        concurrently=bool(node.concurrent),
    )


def _commented_index(node: Any) -> str | None:
    """The index a ``COMMENT ON INDEX`` statement is about, None for any other statement."""
    if not isinstance(node, ast.CommentStmt) or node.objtype != enums.ObjectType.OBJECT_INDEX:
        return None
    names: Any = node.object  # a list of String nodes: [schema,] index
    return str(names[-1].sval)


def _attach_comment(path: Path, stmt: Statement, name: str, indexes: dict[str, IndexDef]) -> None:
    found = indexes.get(name)
    if found is None:
        raise file_error(
            path,
            stmt.line,
            f"COMMENT ON INDEX {name} comes before (or without) its CREATE INDEX",
            hint="put each index's COMMENT right after its CREATE INDEX",
        )
    indexes[name] = replace(found, comment=stmt)


def parse_index_file(path: Path) -> IndexFile:
    """Split the file into statements and group each CREATE INDEX with its COMMENT."""
    other: list[Statement] = []
    indexes: dict[str, IndexDef] = {}
    for stmt in split_file(path):
        node = stmt.parsed()
        commented = _commented_index(node)
        if isinstance(node, ast.IndexStmt):
            index = _index(path, stmt, node)
            if index.name in indexes:
                first = indexes[index.name].create.line
                raise file_error(
                    path,
                    stmt.line,
                    f"index {index.name} is defined twice (first at line {first})",
                    hint="give each index a unique name",
                )
            indexes[index.name] = index
        elif commented is not None:
            _attach_comment(path, stmt, commented, indexes)
        else:
            other.append(stmt)
    return IndexFile(path, tuple(other), tuple(indexes.values()))
