"""What makes a database pgperf's own: its name, its comment; the rule both are checked by."""

from __future__ import annotations

import re

from pgperf.errors import UnsafeTarget

#: Every database pgperf creates is named like this, and carries the comment below.
DATABASE_PREFIX = "pgperf_"
OWNER_MARK = "created by pgperf"
#: Databases a DSN may name although pgperf did not create them: it only connects there.
MAINTENANCE_DATABASES = frozenset({"postgres", "template1"})
_DB_NAME = re.compile(r"^pgperf_[a-z0-9_]{1,56}$")


def check_database_name(name: str) -> str:
    """Return ``name`` if it is a database name the suite may create or drop, else refuse."""
    if not _DB_NAME.match(name):
        raise UnsafeTarget(
            f"refusing database name {name!r}: pgperf only creates and drops databases named "
            f"{DATABASE_PREFIX}<lowercase letters, digits, _> (at most 63 characters)",
        )
    return name
