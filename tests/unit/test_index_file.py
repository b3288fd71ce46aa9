"""Splitting SQL files into statements and grouping each index with its comment (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgperf.errors import SqlFileError
from pgperf.indexes import parse_index_file
from pgperf.sqlsplit import split_statements


def test_split_keeps_semicolons_inside_quotes_comments_and_dollar_bodies() -> None:
    text = (
        "-- header; not a statement\n"
        "SELECT 'a;b', \"we;ird\";\n"
        "/* block; comment */ CREATE FUNCTION f() RETURNS int LANGUAGE sql\n"
        "AS $body$ SELECT 1; $body$;\n"
        "\n"
        "SELECT $$x;y$$  -- trailing; comment\n"
    )
    statements = split_statements(text)
    assert [s.line for s in statements] == [2, 3, 6]
    assert statements[0].text == "SELECT 'a;b', \"we;ird\""
    assert statements[1].text.endswith("$body$ SELECT 1; $body$")
    assert statements[2].text.startswith("SELECT $$x;y$$")


def test_split_handles_doubled_quotes_and_a_file_of_comments() -> None:
    assert [s.text for s in split_statements("SELECT 'it''s; fine'; ")] == ["SELECT 'it''s; fine'"]
    assert split_statements("-- nothing\n/* at all */\n") == []


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "idx.sql"
    path.write_text(text)
    return path


def test_each_index_gets_its_comment_and_a_whitespace_insensitive_digest(tmp_path: Path) -> None:
    a = parse_index_file(
        _write(
            tmp_path,
            "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
            "-- why this index\n"
            "CREATE INDEX IF NOT EXISTS idx_a ON tasks (user_id);\n"
            "COMMENT ON INDEX idx_a IS 'category=single; serves=x/y';\n"
            "CREATE INDEX CONCURRENTLY idx_b ON users USING gin (name gin_trgm_ops);\n",
        )
    )
    assert [s.text for s in a.other] == ["CREATE EXTENSION IF NOT EXISTS pg_trgm"]
    assert [(i.name, i.table, i.create.line, i.concurrently) for i in a.indexes] == [
        ("idx_a", "tasks", 3, False),
        ("idx_b", "users", 5, True),
    ]
    assert a.indexes[0].comment is not None
    b = parse_index_file(
        _write(
            tmp_path,
            "-- another explanation entirely\n\n"
            "CREATE INDEX IF NOT EXISTS idx_a\n ON tasks (user_id);"
            "COMMENT ON INDEX idx_a IS 'category=single; serves=x/y';",
        )
    )
    c = parse_index_file(_write(tmp_path, "CREATE INDEX IF NOT EXISTS idx_a ON tasks (user_id);"))
    assert b.indexes[0].digest == a.indexes[0].digest
    assert c.indexes[0].digest != a.indexes[0].digest  # the comment is part of the index


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1;\nCREATE INDEX ON tasks (user_id);", r"idx\.sql:2: CREATE INDEX without"),
        (
            "CREATE INDEX idx_a ON t (a);\n\nCREATE INDEX idx_a ON t (b);",
            r"idx\.sql:3: index idx_a is defined twice \(first at line 1\)",
        ),
        ("COMMENT ON INDEX idx_z IS 'x';", r"idx\.sql:1: COMMENT ON INDEX idx_z comes before"),
    ],
)
def test_malformed_files_are_refused_with_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(SqlFileError, match=message):
        parse_index_file(_write(tmp_path, text))
