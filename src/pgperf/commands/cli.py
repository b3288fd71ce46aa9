"""The `pgperf` command: parse, resolve the Config once, run one command, map errors to exits.

Every command is a module of this package with a ``register(sub)`` that adds its parser;
its options come from the one settings table (``pgperf.config.SETTINGS``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pgperf import __version__
from pgperf.commands import (
    ab,
    baseline,
    compare,
    db,
    doctor,
    history,
    load_sweep,
    pgbench_export,
    report,
    seed,
)
from pgperf.config import Config, resolve_config
from pgperf.errors import PgperfError
from pgperf.options import ALL_GROUPS, chosen

Command = Callable[[argparse.Namespace, Config], int]

DESCRIPTION = """\
pgperf tells whoever changes a query, the schema, an index or the seed data whether the
change made a screen of the platform slower or made the database do more work. It starts a
throwaway PostgreSQL, seeds realistic volumes, applies the performance indexes, benchmarks
every feature's queries and judges plans, work (buffers), budgets and latency against a
baseline. `make perf` and `make test` run it through pytest; these commands do the rest."""

EPILOG = """\
exit codes: 0 pass, 1 regression (or a check that failed), 2 bad input, 130 interrupted.
Settings: every --flag has a PGPERF_* environment variable (see each command's --help)."""

COMMANDS = (
    doctor,
    seed,
    db,
    compare,
    ab,
    baseline,
    report,
    history,
    pgbench_export,
    load_sweep,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="pgperf",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pgperf {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, resolve the Config once, run the command, map errors to exit codes."""
    args = build_parser().parse_args(argv)
    try:
        config = resolve_config(cli=chosen(lambda dest: getattr(args, dest, None), ALL_GROUPS))
        handler: Command = args.handler
        return handler(args, config)
    except PgperfError as exc:
        print(f"pgperf: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("pgperf: interrupted; everything pgperf started was stopped", file=sys.stderr)
        return 130
