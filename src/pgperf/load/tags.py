"""How a load run's statements and sessions are named, so the server's view can tell them apart.

Each statement is sent behind a ``/* label */`` comment (comments do not change the query
id, and pg_stat_statements keeps the first text it saw); background jobs' labels start with
``bg:``. Every session carries an application name, by which the watcher finds its backends.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg.rows import dict_row

#: Tags every connection of a scenario, so the server-side view can pick out its backends.
APP_PREFIX = "pgperf-load"
#: Label prefix of background statements (kept apart from the requests' statements).
BACKGROUND_PREFIX = "bg:"
_LABEL = re.compile(r"^/\* (.*?) \*/")

Row = dict[str, Any]
DictConnection = psycopg.Connection[Row]


def tag(label: str, text: str) -> str:
    """``text`` prefixed with a comment naming it (comments do not change the query id)."""
    return f"/* {label.replace('*/', '* /')} */ {text}"


def label_of(query: str) -> str:
    """The ``/* label */`` a statement was tagged with ('' if untagged)."""
    found = _LABEL.match(query)
    return found.group(1) if found else ""


def app_name(scenario: str) -> str:
    """The application name of a scenario's sessions (at most 63 bytes, as the server keeps)."""
    return f"{APP_PREFIX}:{scenario}"[:63]


def connect_as(dsn: str, app: str) -> DictConnection:
    """An autocommit session with dict rows, named ``app`` for the server's activity view."""
    return psycopg.connect(dsn, autocommit=True, application_name=app, row_factory=dict_row)
