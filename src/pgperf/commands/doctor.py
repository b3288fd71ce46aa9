"""`pgperf doctor`: which backends can give a server here, and what to do when none can."""

from __future__ import annotations

import argparse

from pgperf.config import Config, setting
from pgperf.errors import EXIT_PASS, EXIT_REGRESSION
from pgperf.options import add_options
from pgperf.provision import all_backends


def run(args: argparse.Namespace, config: Config) -> int:
    """One line per backend; exit 1 when none is usable, or when the configured DSN is not."""
    usable: list[str] = []
    for name, backend in all_backends(config).items():
        found = backend.availability()
        if found.usable:
            usable.append(name)
        mark = "ok " if found.usable else "no "
        print(f"[{mark}] {name:<6} {found.detail}")
        if not found.usable and found.hint:
            print(f"         -> {found.hint}")
    if config.dsn and "dsn" not in usable:
        # The run would use that server (a DSN means the dsn backend): it must answer.
        print(f"the server of {setting('dsn').env} does not answer: runs here would fail.")
        return EXIT_REGRESSION
    if usable:
        print(f"{len(usable)} backend(s) usable; `auto` tries docker, then local.")
        return EXIT_PASS
    print(
        "No backend is usable. Start Docker; or apt-get install -y postgresql; "
        "or set PGPERF_DSN to a server you run."
    )
    return EXIT_REGRESSION


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`doctor`."""
    parser = sub.add_parser("doctor", help="which backends are usable here")
    add_options(parser.add_argument, ("server", "paths"))
    parser.set_defaults(handler=run)
