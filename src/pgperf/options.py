"""The settings table (``pgperf.config.SETTINGS``) as options of pytest and of ``pgperf``.

Both faces take the same flags and the same help; an option's value lands under
``pgperf_<field>``, which :func:`chosen` reads back into the layers ``resolve_config`` takes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pgperf.config import SETTINGS, Group, Setting

AddOption = Callable[..., Any]


def dest(row: Setting) -> str:
    """Where an option's value is stored (argparse ``dest``, pytest ``getoption`` name)."""
    return f"pgperf_{row.field}"


def ini_key(row: Setting) -> str:
    """The pytest ini key of a setting."""
    return f"pgperf_{row.field}"


def rows(groups: Iterable[Group]) -> tuple[Setting, ...]:
    """The settings of those groups, in table order."""
    wanted = set(groups)
    return tuple(row for row in SETTINGS if row.group in wanted)


def add_options(add: AddOption, groups: Iterable[Group]) -> None:
    """Register the settings of ``groups`` through ``add`` (argparse or pytest ``addoption``)."""
    for row in rows(groups):
        add(
            *row.flags,
            dest=dest(row),
            default=None,
            metavar="VALUE",
            help=f"{row.help} (env {row.env})",
        )


def chosen(get: Callable[[str], object], groups: Iterable[Group]) -> Mapping[str, object]:
    """Field -> value of the options given (``get`` reads one by its ``dest``)."""
    return {row.field: get(dest(row)) for row in rows(groups)}


ALL_GROUPS: tuple[Group, ...] = ("server", "verdict", "paths")
