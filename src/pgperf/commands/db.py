"""`pgperf db up [--detach]` / `pgperf db down`: a seeded database to poke at with psql.

``db up`` serves a clone of the bench template (seeded data + performance indexes +
monitoring) until Ctrl-C; with ``--detach`` it returns once the database is ready and
prints its DSN as the last line of standard output, so ``DSN=$(pgperf db up --detach |
tail -1)`` works. ``db down`` stops a detached one and removes what it made.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from psycopg.conninfo import conninfo_to_dict

from pgperf.config import Config, setting
from pgperf.data import database
from pgperf.errors import EXIT_BAD_INPUT, EXIT_PASS
from pgperf.files import atomic_write
from pgperf.indexes.template import ensure_bench_chain
from pgperf.options import add_options
from pgperf.progress import make_reporter
from pgperf.provision import ServerHandle

#: Settings the detached child takes on its command line (none of them can hold a secret).
_CHILD_FLAGS = ("backend", "profile", "seed", "docker_image", "pg_bindir")
_POLL_S = 0.2


def state_file(config: Config) -> Path:
    """Where a detached `db up` records its pid and DSN (readable by its owner only)."""
    return config.project_root / ".pgperf-state" / "db.json"


def prepare_database(config: Config, server: ServerHandle) -> str:
    """Create the database `db up` hands out: a clone of the bench template, as benchmarks see."""
    chain = ensure_bench_chain(server, config, reporter=make_reporter(enabled=True))
    name = f"pgperf_db_{config.profile}"
    database.drop_database(server, name)
    return database.create_database(server, name, template=chain.bench.name)


def uri_of(dsn: str) -> str:
    """The ``postgresql://`` URI of a key=value DSN (password left out), every part encoded."""
    params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if k != "password"}
    user = f"{quote(params.pop('user'), safe='')}@" if "user" in params else ""
    host = params.pop("host", "")
    port = f":{params.pop('port')}" if "port" in params else ""
    dbname = quote(params.pop("dbname", ""), safe="")
    if host.startswith("/"):  # a socket directory goes in the query, not the authority
        params["host"], host = host, ""
    elif ":" in host:
        host = f"[{host}]"  # an IPv6 address
    query = f"?{urlencode(params)}" if params else ""
    return f"postgresql://{user}{host}{port}/{dbname}{query}"


def _serve_foreground(config: Config, state_path: Path | None) -> int:
    try:
        with database.provisioned(config) as server:
            dsn = prepare_database(config, server)
            try:
                print(f"URI: {uri_of(dsn)}", flush=True)
                print(f"DSN: {dsn}", flush=True)
                if state_path is not None:
                    state = {"pid": os.getpid(), "dsn": dsn, "backend": server.backend}
                    atomic_write(state_path, json.dumps(state, indent=2), mode=0o600)
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
    return EXIT_PASS


def _child_command(config: Config, state: Path) -> list[str]:
    flags = [f"{setting('cache_dir').flag}={config.cache_dir or 'off'}"]
    for name in _CHILD_FLAGS:
        value = getattr(config, name)
        if value is not None:
            flags.append(f"{setting(name).flag}={value}")
    return [sys.executable, "-m", "pgperf", "db", "up", *flags, "--state-file", str(state)]


def _child_env(config: Config) -> dict[str, str]:
    # The DSN (which may hold a password) travels in the environment, never on a command
    # line that `ps` shows to every user of the machine.
    env = {k: v for k, v in os.environ.items() if k != setting("dsn").env}
    if config.dsn:
        env[setting("dsn").env] = config.dsn
    env[setting("project_root").env] = str(config.project_root)
    return env


def _detach(config: Config) -> int:
    state = state_file(config)
    if state.exists():
        print(f"a database is already up ({state}); `pgperf db down` first", file=sys.stderr)
        return EXIT_BAD_INPUT
    log_path = state.with_suffix(".log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a log an older pgperf left may have another mode
    with os.fdopen(fd, "wb") as log:
        child = subprocess.Popen(
            _child_command(config, state),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=_child_env(config),
            start_new_session=True,
        )
    deadline = time.monotonic() + config.startup_timeout_s + 3600  # seeding may take a while
    while not state.exists():
        if child.poll() is not None:
            print(log_path.read_text(errors="replace"), file=sys.stderr)
            return EXIT_BAD_INPUT
        if time.monotonic() > deadline:
            child.terminate()
            return EXIT_BAD_INPUT
        time.sleep(_POLL_S)  # polling for the child's state file, which it writes when ready
    dsn = str(json.loads(state.read_text())["dsn"])
    print(f"detached (pid {child.pid}); `pgperf db down` stops it. Log: {log_path}")
    print(f"URI: {uri_of(dsn)}")
    print(dsn)
    return EXIT_PASS


def _db_down(config: Config) -> int:
    state = state_file(config)
    if not state.exists():
        print("no detached database is up (nothing to stop)")
        return EXIT_PASS
    pid = int(json.loads(state.read_text())["pid"])
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        state.unlink(missing_ok=True)
        print(f"process {pid} was already gone; state cleared")
        return EXIT_PASS
    deadline = time.monotonic() + 60
    while state.exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # waiting for the server process to finish its clean-up
    print("stopped" if not state.exists() else f"process {pid} did not stop within 60s")
    state.with_suffix(".log").unlink(missing_ok=True)
    return EXIT_PASS if not state.exists() else EXIT_BAD_INPUT


def run(args: argparse.Namespace, config: Config) -> int:
    """`db up [--detach]` serves a database until Ctrl-C or `db down`; `db down` stops it."""
    if args.action == "down":
        return _db_down(config)
    if args.detach:
        return _detach(config)
    return _serve_foreground(config, Path(args.state_file) if args.state_file else None)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`db up` and `db down`."""
    parser = sub.add_parser("db", help="a seeded database to poke at with psql")
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--detach", action="store_true", help="return once the DSN is ready")
    parser.add_argument("--state-file", help=argparse.SUPPRESS)
    add_options(parser.add_argument, ("server", "paths"))
    parser.set_defaults(handler=run)
