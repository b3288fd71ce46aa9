"""Split a SQL file into statements with the line each starts on (quotes and comments aware)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True)
class Statement:
    """One statement of a SQL file: its text (no trailing ';') and the line it starts on."""

    text: str
    line: int


def _skip_quoted(text: str, start: int, quote: str) -> int:
    # Returns the index just past the closing quote; a doubled quote is an escaped one.
    i = start + 1
    while i < len(text):
        if text[i] == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return len(text)


def _skip_token(text: str, i: int) -> int | None:
    """Index past a string, identifier, comment or dollar-quoted body starting at i, if any."""
    char, pair = text[i], text[i : i + 2]
    if char in "'\"":
        return _skip_quoted(text, i, char)
    if pair == "--":
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if pair == "/*":
        end = text.find("*/", i + 2)
        return len(text) if end < 0 else end + 2
    if char == "$":
        tag = _DOLLAR_TAG.match(text, i)
        if tag:
            end = text.find(tag.group(), tag.end())
            return len(text) if end < 0 else end + len(tag.group())
    return None


def _first_code(text: str, i: int) -> int:
    """Index of the first character at or after i that is neither blank nor a comment."""
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i) or text.startswith("/*", i):
            i = _skip_token(text, i) or i + 1
        else:
            return i
    return i


def split_statements(text: str) -> list[Statement]:
    """The statements of ``text``; comments before a statement are not part of it."""
    statements: list[Statement] = []
    start = _first_code(text, 0)
    i = start
    while i < len(text):
        skipped = _skip_token(text, i)
        if skipped is not None:
            i = skipped
            continue
        if text[i] == ";":
            body = text[start:i].strip()
            if body:
                statements.append(Statement(body, text.count("\n", 0, start) + 1))
            start = i = _first_code(text, i + 1)
            continue
        i += 1
    tail = text[start:].strip()
    if tail:
        statements.append(Statement(tail, text.count("\n", 0, start) + 1))
    return statements
