"""`pgperf seed`: seed (or reuse) the template database of a profile and seed; print its DSN."""

from __future__ import annotations

import argparse

from pgperf.config import Config
from pgperf.data.database import provisioned
from pgperf.errors import EXIT_PASS
from pgperf.options import add_options
from pgperf.progress import make_reporter


def run(args: argparse.Namespace, config: Config) -> int:
    """Seed or reuse; say which, and where the template is while the server runs."""
    from pgperf.data.seeding import ensure_seeded_template

    with provisioned(config) as server:
        template = ensure_seeded_template(server, config, reporter=make_reporter(enabled=True))
        verb = "reused" if template.reused else "seeded"
        print(f"{verb} {template.name} in {template.seconds:.1f}s ", end="")
        print(f"(profile {config.profile}, seed {config.seed})")
        if server.backend == "dsn":
            print(f"DSN: {server.dsn(template.name)}")
        elif server.persistent:
            # The server stops when this command ends; its cluster keeps the template.
            print("the template stays in the cached cluster for the next run; the server stops")
            print("now: `pgperf db up` serves a clone of it to connect to")
        else:
            print("note: this server is a throwaway one; the template is gone with it")
    return EXIT_PASS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`seed`."""
    parser = sub.add_parser("seed", help="seed (or reuse) the template database of a profile")
    add_options(parser.add_argument, ("server", "paths"))
    parser.set_defaults(handler=run)
