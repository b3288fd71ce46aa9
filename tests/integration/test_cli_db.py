"""`pgperf db up` hands out a working DSN and cleans up on Ctrl-C and on `db down`."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from pgperf.commands.db import state_file
from pgperf.config import resolve_config
from pgperf.provision import ServerHandle
from pgperf.provision.local import find_binaries

pytestmark = pytest.mark.integration

_SERVER_ARGS = ["--backend", "local", "--profile", "ci"]
#: `db up --detach` waits for seeding and index builds (a throwaway cluster seeds from scratch).
_UP_TIMEOUT_S = 900


def _pgperf(*args: str) -> list[str]:
    return [sys.executable, "-m", "pgperf", *args]


def _env_without_dsn() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PGPERF_DSN"}


def _read_through_dsn(process: subprocess.Popen[bytes], timeout_s: float) -> list[str]:
    """The child's stdout lines up to its DSN line, read against a deadline."""
    assert process.stdout is not None
    fd = process.stdout.fileno()  # read unbuffered: a buffered reader hides lines from select
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    received = b""
    while time.monotonic() < deadline:
        if not selector.select(timeout=1.0):
            assert process.poll() is None, "db up exited before printing its DSN"
            continue
        chunk = os.read(fd, 65536)
        assert chunk, "db up closed its output before printing a DSN"
        received += chunk
        complete = received.decode().split("\n")[:-1]
        for index, line in enumerate(complete):
            if line.startswith("DSN: "):
                return complete[: index + 1]
    pytest.fail(f"db up printed no DSN within {timeout_s:.0f}s")


def _postmaster_of(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
        assert row is not None
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'tasks'")
        assert tables.fetchone() == (1,)
    return int((Path(str(row[0])) / "postmaster.pid").read_text().split()[0])


def _gone(pid: int, timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)  # polling the process table against a deadline
    return False


def _check_uri(uri_line: str, dsn: str) -> None:
    """The URI line names the DSN's database and server, and connects to the same database."""
    assert uri_line.startswith("URI: postgresql://")
    uri = uri_line.removeprefix("URI: ")
    params = conninfo_to_dict(dsn)
    assert uri.endswith(f"/{params['dbname']}")
    assert "password" not in uri
    with psycopg.connect(uri) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (params["dbname"],)


def _psql_answers(dsn: str) -> str:
    binaries = find_binaries()
    assert binaries is not None, "the local backend needs PostgreSQL installed (see .ci/run)"
    done = subprocess.run(
        [binaries.tool("psql"), dsn, "-Atc", "SELECT current_database(), count(*) FROM users"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (item.decode(errors="replace").partition("=") for item in raw if item)
    return {name: value for name, _, value in pairs}


def _state() -> Path:
    # The project root of the child: found from the same working directory as ours.
    return state_file(resolve_config())


def _detach(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _pgperf("db", "up", "--detach", *args),
        capture_output=True,
        text=True,
        timeout=_UP_TIMEOUT_S,
        env=_env_without_dsn(),
        check=False,
    )


def _down() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _pgperf("db", "down"), capture_output=True, text=True, env=_env_without_dsn(), check=False
    )


def _detached_pid(stdout: str) -> int:
    found = re.search(r"detached \(pid (\d+)\)", stdout)
    assert found is not None, stdout
    return int(found.group(1))


def test_db_up_serves_until_ctrl_c_then_stops_the_server() -> None:
    process = subprocess.Popen(
        _pgperf("db", "up", *_SERVER_ARGS), stdout=subprocess.PIPE, env=_env_without_dsn()
    )
    try:
        lines = _read_through_dsn(process, timeout_s=_UP_TIMEOUT_S)
        dsn = lines[-1].removeprefix("DSN: ")
        assert len(lines) >= 2
        _check_uri(lines[-2], dsn)  # URI first, then DSN
        postmaster = _postmaster_of(dsn)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 0
        assert _gone(postmaster), "the server outlived db up"
    finally:
        if process.poll() is None:
            process.kill()


def test_db_up_detach_prints_a_bare_dsn_last_keeps_it_private_then_down() -> None:
    state = _state()
    assert not state.exists(), f"{state} is left from an earlier run: `pgperf db down` first"
    up = _detach(*_SERVER_ARGS)
    try:
        assert up.returncode == 0, up.stderr
        lines = up.stdout.splitlines()
        dsn = lines[-1]  # DSN=$(pgperf db up --detach | tail -1)
        assert not dsn.startswith("DSN: ")
        assert conninfo_to_dict(dsn)["dbname"] == "pgperf_db_ci"
        _check_uri(lines[-2], dsn)
        postmaster = _postmaster_of(dsn)
        name, users = _psql_answers(dsn).split("|")
        assert name == "pgperf_db_ci"
        assert int(users) > 0

        # The state file holds the DSN: its owner alone may read it, and the log too.
        assert _mode(state) == 0o600
        assert _mode(state.with_suffix(".log")) == 0o600
        recorded = json.loads(state.read_text())
        pid = _detached_pid(up.stdout)
        assert (recorded["pid"], recorded["dsn"], recorded["backend"]) == (pid, dsn, "local")
        # What `ps` shows every user of the machine holds no connection string.
        cmdline = _cmdline(pid)
        assert b"pgperf\0db\0up" in cmdline  # it is the detached server process
        assert b"dbname=" not in cmdline
        assert b"host=" not in cmdline

        again = _detach(*_SERVER_ARGS)
        assert again.returncode == 2
        assert "db down" in again.stderr
    finally:
        down = _down()
    assert down.returncode == 0, down.stdout
    assert "stopped" in down.stdout
    assert _gone(postmaster)
    assert not state.exists()
    assert not state.with_suffix(".log").exists()


def test_db_up_detach_on_a_dsn_passes_it_in_the_environment(pg_server: ServerHandle) -> None:
    state = _state()
    assert not state.exists(), f"{state} is left from an earlier run: `pgperf db down` first"
    up = _detach("--dsn", pg_server.conninfo, "--profile", "ci")
    try:
        assert up.returncode == 0, up.stderr
        dsn = up.stdout.splitlines()[-1]
        assert dsn == pg_server.dsn("pgperf_db_ci")
        _postmaster_of(dsn)
        pid = _detached_pid(up.stdout)
        assert b"dbname=" not in _cmdline(pid)
        assert pg_server.conninfo.encode() not in _cmdline(pid)
        assert _environ(pid)["PGPERF_DSN"] == pg_server.conninfo
        assert json.loads(state.read_text())["backend"] == "dsn"
    finally:
        down = _down()
    assert down.returncode == 0, down.stdout
    assert "stopped" in down.stdout
    assert not state.exists()
    with psycopg.connect(pg_server.conninfo) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = 'pgperf_db_ci'")
        assert left.fetchone() == (0,)  # db down removed what db up made on that server


@pytest.mark.parametrize(
    "dsn",
    [
        "host=/var/run/postgresql port=5432 user=postgres dbname=pgperf_db_ci",
        "host=::1 port=5432 user=postgres dbname=pgperf_db_ci",
        "host=127.0.0.1 port=5432 user=ops@example dbname=pgperf_db_ci",
    ],
    ids=["socket-dir", "ipv6", "at-in-user"],
)
def test_the_uri_line_names_the_same_server_and_database_as_the_dsn(dsn: str) -> None:
    from pgperf.commands.db import uri_of

    wanted = {k: v for k, v in conninfo_to_dict(dsn).items() if k != "password"}
    assert conninfo_to_dict(uri_of(dsn)) == wanted
