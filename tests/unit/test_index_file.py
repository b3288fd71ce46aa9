"""Splitting SQL files into statements (by PostgreSQL's own parser, pglast) and grouping each
index with its comment (no database)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pgperf.data.sqlfile import split_statements
from pgperf.errors import SqlFileError
from pgperf.indexes.indexfile import parse_index_file


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


def test_split_reads_escape_strings_as_the_server_does() -> None:
    # The backslash escapes the quote in an E'' string: the ';' after it is inside the string.
    statements = split_statements("SELECT E'it\\'s; ok';\nSELECT 2;")
    assert [(s.text, s.line) for s in statements] == [("SELECT E'it\\'s; ok'", 1), ("SELECT 2", 2)]


def test_split_skips_nested_block_comments() -> None:
    text = (
        "/* outer /* inner; */ still; a comment */ SELECT 1;\n/* a /* b /* c; */ */ */\nSELECT 2;"
    )
    statements = split_statements(text)
    assert [(s.text, s.line) for s in statements] == [("SELECT 1", 1), ("SELECT 2", 3)]


def test_split_keeps_a_begin_atomic_body_whole() -> None:
    body = (
        "CREATE FUNCTION bump(n int) RETURNS int LANGUAGE sql\n"
        "BEGIN ATOMIC\n"
        "  UPDATE counters SET value = value + n;\n"
        "  SELECT value FROM counters;\n"
        "END"
    )
    statements = split_statements(f"SELECT 0;\n{body};\nSELECT 1;")
    assert [(s.text, s.line) for s in statements] == [
        ("SELECT 0", 1),
        (body, 2),
        ("SELECT 1", 7),
    ]


def test_split_keeps_dollar_quotes_with_and_without_tags() -> None:
    text = (
        "DO $$ BEGIN PERFORM 1; END $$;\n"
        "SELECT $tag$ a; $$ not the end; $tag$;\n"
        "CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $f$\n  SELECT ';'\n$f$;"
    )
    statements = split_statements(text)
    assert [s.line for s in statements] == [1, 2, 3]
    assert statements[0].text == "DO $$ BEGIN PERFORM 1; END $$"
    assert statements[1].text == "SELECT $tag$ a; $$ not the end; $tag$"
    assert statements[2].text.endswith("$f$\n  SELECT ';'\n$f$")


def test_start_lines_count_characters_not_bytes() -> None:
    text = "-- caf\u00e9 \u2615\u2615\u2615\nSELECT '\u00e9';\n\n  SELECT 2;\nSELECT 3"
    assert [(s.text, s.line) for s in split_statements(text)] == [
        ("SELECT '\u00e9'", 2),
        ("SELECT 2", 4),
        ("SELECT 3", 5),
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("SELECT 1;\n\nSELEC 2;\nSELECT 3;", "a.sql:3: "),
        ("SELECT 1;\nSELECT (;\n", "a.sql:2: "),
        (
            "-- \u2615\u2615\u2615\u2615\u2615\u2615\u2615\u2615\nSELECT 'unterminated\n",
            "a.sql:2: ",
        ),
        ("SELECT 1;\nSELECT 2;\nCREATE INDEX ON t (a) WHERE (;\nSELECT 4;", "a.sql:3: "),
    ],
)
def test_a_syntax_error_names_origin_and_line(text: str, where: str) -> None:
    with pytest.raises(SqlFileError) as caught:
        split_statements(text, origin="a.sql")
    assert caught.value.message.startswith(where), caught.value.message
    assert "syntax error" in caught.value.message or "unterminated" in caught.value.message


def test_split_file_errors_name_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "SELECT 1;\nSELEC 2;")
    with pytest.raises(SqlFileError, match=rf"^{re.escape(str(path))}:2: syntax error"):
        parse_index_file(path)


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


def test_name_table_and_concurrently_come_from_the_parse_tree(tmp_path: Path) -> None:
    parsed = parse_index_file(
        _write(
            tmp_path,
            "CREATE UNIQUE INDEX IF NOT EXISTS idx_u ON public.tasks USING btree (id);\n"
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_o ON ONLY events (created_at);\n"
            "COMMENT ON INDEX public.idx_u IS 'category=single';\n"
            "CREATE INDEX\n  IDX_FOLDED\n  ON Users (lower(name));\n"
            "CREATE INDEX idx_w ON tasks (a) WHERE note = 'ON other (x); CONCURRENTLY';\n",
        )
    )
    assert [(i.name, i.table, i.create.line, i.concurrently) for i in parsed.indexes] == [
        ("idx_u", "tasks", 1, False),
        ("idx_o", "events", 2, True),
        ("idx_folded", "users", 4, False),  # unquoted names fold to lowercase, as in the server
        ("idx_w", "tasks", 7, False),  # a string that looks like SQL is only a string
    ]
    comment = parsed.indexes[0].comment
    assert comment is not None
    assert (comment.text, comment.line) == ("COMMENT ON INDEX public.idx_u IS 'category=single'", 3)
    assert [i.comment for i in parsed.indexes[1:]] == [None, None, None]
    assert parsed.other == ()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('CREATE INDEX "Idx_Mixed" ON tasks (user_id);', 1),
        ('SELECT 1;\n\nCREATE INDEX "IDX_UPPER" ON tasks (user_id);', 3),
        ("SELECT 1;\nCREATE UNIQUE INDEX ON tasks (user_id);", 2),
        ("SELECT 1;\nCREATE INDEX CONCURRENTLY ON ONLY public.tasks (user_id);", 2),
    ],
)
def test_an_index_without_a_plain_lowercase_name_is_refused(
    tmp_path: Path, text: str, line: int
) -> None:
    with pytest.raises(
        SqlFileError, match=rf"idx\.sql:{line}: CREATE INDEX without an explicit lowercase"
    ) as caught:
        parse_index_file(_write(tmp_path, text))
    assert caught.value.hint is not None
    assert "IF NOT EXISTS idx_name ON table" in caught.value.hint


def test_a_comment_before_its_index_is_refused(tmp_path: Path) -> None:
    text = (
        "CREATE INDEX idx_a ON t (a);\n"
        "COMMENT ON INDEX idx_b IS 'too early';\n"
        "CREATE INDEX idx_b ON t (b);\n"
    )
    with pytest.raises(SqlFileError, match=r"idx\.sql:2: COMMENT ON INDEX idx_b comes before"):
        parse_index_file(_write(tmp_path, text))


def test_a_name_defined_twice_is_refused_whatever_its_case(tmp_path: Path) -> None:
    text = "CREATE INDEX idx_a ON t (a);\nSELECT 1;\nCREATE INDEX IF NOT EXISTS IDX_A ON u (b);"
    with pytest.raises(
        SqlFileError, match=r"idx\.sql:3: index idx_a is defined twice \(first at line 1\)"
    ):
        parse_index_file(_write(tmp_path, text))
