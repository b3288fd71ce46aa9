"""`pgperf pgbench-export DIR`: the load scenarios as pgbench scripts, with a README."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgperf.config import Config
from pgperf.errors import EXIT_PASS
from pgperf.options import add_options


def run(args: argparse.Namespace, config: Config) -> int:
    """Write the scenarios' pgbench scripts and README into DIR."""
    from pgperf.load.pgbench import export
    from pgperf.load.scenarios import load_scenarios
    from pgperf.measure.catalog import catalog_of

    layout = config.layout
    catalog = catalog_of(layout)
    specs = load_scenarios(layout.load_dir, catalog, seed=config.seed)
    written = export(Path(args.folder), specs, catalog, load_dir=layout.load_dir)
    print(f"wrote {len(written)} files to {args.folder}; commands in {args.folder}/README.md")
    return EXIT_PASS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`pgbench-export`."""
    parser = sub.add_parser(
        "pgbench-export", help="the load scenarios as pgbench scripts, with a README"
    )
    parser.add_argument("folder", metavar="DIR", help="where to write the scripts")
    add_options(parser.add_argument, ("paths",))
    parser.set_defaults(handler=run)
