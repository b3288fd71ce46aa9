"""The `pgperf` command: a thin layer that turns engine errors into exit codes and hints."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from pgperf import database
from pgperf.config import BACKENDS, Config, resolve_config
from pgperf.errors import PgperfError
from pgperf.gate import add_gate_commands
from pgperf.pgbench_export import add_pgbench_command
from pgperf.provision import ServerHandle, all_backends, provision

EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2

Command = Callable[[argparse.Namespace, Config], int]

# Parsed arguments that set the Config field of the same name (when a subcommand has them).
CONFIG_ARGS = (
    "backend",
    "dsn",
    "profile",
    "seed",
    "baseline",
    "regression_threshold",
    "latency_floor_ms",
    "significance",
)


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", dest="backend", choices=BACKENDS, help="default: auto")
    parser.add_argument("--dsn", dest="dsn", help="an existing server (dbname=postgres)")
    parser.add_argument("--profile", dest="profile", help="ci | default | large")
    parser.add_argument("--seed", dest="seed", type=int, help="data generator seed")


def cmd_doctor(args: argparse.Namespace, config: Config) -> int:
    """Say which backends are usable here, and what to do when none is."""
    usable = 0
    for name, backend in all_backends(config).items():
        found = backend.availability()
        usable += found.usable
        mark = "ok " if found.usable else "no "
        print(f"[{mark}] {name:<6} {found.detail}")
        if not found.usable and found.hint:
            print(f"         -> {found.hint}")
    if usable:
        print(f"{usable} backend(s) usable; `auto` tries docker, then local.")
        return EXIT_OK
    print(
        "No backend is usable. Start Docker; or apt-get install -y postgresql; "
        "or set PGPERF_DSN to a server you run."
    )
    return EXIT_FAIL


def _state_file(config: Config) -> Path:
    return config.project_root / ".pgperf-state" / "db.json"


def _write_state(path: Path, state: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)  # atomic: `db down` never reads half a file


def prepare_database(config: Config, server: ServerHandle) -> str:
    """Create the database `db up` hands out: a clone of the bench template, as benchmarks see.

    Bench template = seeded template + sql/performance_indexes.sql + sql/monitoring.sql.
    """
    from pgperf.indexes import ensure_bench_template
    from pgperf.seeding import ensure_seeded_template

    template = ensure_bench_template(server, config, ensure_seeded_template(server, config))
    name = f"pgperf_db_{config.profile}"
    database.drop_database(server, name)
    return database.create_database(server, name, template=template.name)


def cmd_seed(args: argparse.Namespace, config: Config) -> int:
    """Seed (or reuse) the template database of the profile and seed; print its DSN."""
    from pgperf.seeding import ensure_seeded_template

    with provision(config) as server:
        if server.persistent and server.backend == "local":
            database.drop_stale_runs(server)  # e.g. the build of a seeding killed earlier
        template = ensure_seeded_template(server, config)
        print(f"{'reused' if template.reused else 'seeded'} {template.name} ", end="")
        print(f"in {template.seconds:.1f}s (profile {config.profile}, seed {config.seed})")
        print(f"DSN: {server.dsn(template.name)}")
        if not server.persistent:
            print("note: this server is a throwaway one; the template is gone with it.")
    return EXIT_OK


def _serve_foreground(config: Config, state_path: Path | None) -> int:
    try:
        with provision(config) as server:
            dsn = prepare_database(config, server)
            try:
                print(f"DSN: {dsn}", flush=True)
                if state_path is not None:
                    state = {"pid": os.getpid(), "dsn": dsn, "backend": server.backend}
                    _write_state(state_path, state)
                print("Ctrl-C stops the server and removes what pgperf made.", file=sys.stderr)
                signal.pause()
            except KeyboardInterrupt:
                print("stopping...", file=sys.stderr)
            finally:
                database.drop_database(server, str(conninfo_to_dict(dsn)["dbname"]))
    finally:
        # Removed only once the server is down: `db down` waits for this file to go.
        if state_path is not None:
            state_path.unlink(missing_ok=True)
    return EXIT_OK


def _detach(config: Config, argv: Sequence[str]) -> int:
    state = _state_file(config)
    if state.exists():
        print(f"a database is already up ({state}); `pgperf db down` first", file=sys.stderr)
        return EXIT_ERROR
    log_path = state.with_suffix(".log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "pgperf.cli", *argv, "--state-file", str(state)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + config.startup_timeout_s + 3600  # seeding may take a while
    while not state.exists():
        if child.poll() is not None:
            print(log_path.read_text(errors="replace"), file=sys.stderr)
            return EXIT_ERROR
        if time.monotonic() > deadline:
            child.terminate()
            return EXIT_ERROR
        time.sleep(0.2)  # polling for the child's state file, which it writes when ready
    print(f"DSN: {json.loads(state.read_text())['dsn']}")
    print(f"detached (pid {child.pid}); `pgperf db down` stops it. Log: {log_path}")
    return EXIT_OK


def cmd_db(args: argparse.Namespace, config: Config) -> int:
    """`db up [--detach]` serves a database until Ctrl-C or `db down`; `db down` stops it."""
    if args.action == "down":
        return _db_down(config)
    if args.detach:
        argv = ["db", "up"] + [
            f"--{k}={v}" for k in ("backend", "dsn", "profile", "seed") if (v := getattr(args, k))
        ]
        return _detach(config, argv)
    return _serve_foreground(config, Path(args.state_file) if args.state_file else None)


def _db_down(config: Config) -> int:
    state = _state_file(config)
    if not state.exists():
        print("no detached database is up (nothing to stop)")
        return EXIT_OK
    pid = int(json.loads(state.read_text())["pid"])
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        state.unlink(missing_ok=True)
        print(f"process {pid} was already gone; state cleared")
        return EXIT_OK
    deadline = time.monotonic() + 60
    while state.exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # waiting for the server process to finish its clean-up
    print("stopped" if not state.exists() else f"process {pid} did not stop within 60s")
    return EXIT_OK if not state.exists() else EXIT_ERROR


def cmd_report(args: argparse.Namespace, config: Config) -> int:
    """`report RESULTS [--baseline B] -o FILE`: the verdict as one self-contained HTML page."""
    from pgperf.gate import judge_files
    from pgperf.report.html import render_html, write_html
    from pgperf.results import default_baseline_path, load_results

    results = load_results(Path(args.results_file))
    # Like `verdict`: a named baseline must exist; the profile's stored one may be absent.
    stored = default_baseline_path(config.project_root, results.meta.profile)
    path = config.baseline or (stored if stored.exists() else None)
    baseline = load_results(path, role="baseline") if path else None
    verdict = judge_files(baseline, results, config)
    size = write_html(Path(args.output), render_html(verdict, results, baseline))
    print(f"HTML report: {args.output} ({size / 1024:.0f} kB) - {verdict.headline}")
    return EXIT_OK


def _add_report_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from pgperf.gate import THRESHOLD_OPTIONS

    report = sub.add_parser("report", help="the verdict as one self-contained HTML page")
    report.add_argument("results_file", metavar="RESULTS", help="e.g. reports/results.json")
    report.add_argument("--baseline", dest="baseline", help="default: baselines/<profile>.json")
    report.add_argument("-o", "--output", default="reports/report.html", help="the HTML file")
    for flag, dest, help_text in THRESHOLD_OPTIONS:
        report.add_argument(flag, dest=dest, help=help_text)
    report.set_defaults(handler=cmd_report)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="pgperf", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    doctor = sub.add_parser("doctor", help="which backends are usable here")
    _add_server_options(doctor)
    doctor.set_defaults(handler=cmd_doctor)
    db = sub.add_parser("db", help="a seeded database to poke at with psql")
    db.add_argument("action", choices=("up", "down"))
    db.add_argument("--detach", action="store_true", help="return once the DSN is ready")
    db.add_argument("--state-file", help=argparse.SUPPRESS)
    _add_server_options(db)
    db.set_defaults(handler=cmd_db)
    seed = sub.add_parser("seed", help="seed (or reuse) the template database of a profile")
    _add_server_options(seed)
    seed.set_defaults(handler=cmd_seed)
    add_gate_commands(sub)
    _add_report_command(sub)
    add_pgbench_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, resolve the Config once, run the command, map errors to exit codes."""
    args = build_parser().parse_args(argv)
    cli = {k: getattr(args, k, None) for k in CONFIG_ARGS}
    try:
        config = resolve_config(cli=cli)
        handler: Command = args.handler
        return handler(args, config)
    except PgperfError as exc:
        print(f"pgperf: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("pgperf: interrupted; everything pgperf started was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
