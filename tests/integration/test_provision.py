"""Provisioning against real servers: backend choice, local lifecycle, interruption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from pgperf.config import resolve_config
from pgperf.errors import BackendUnavailable
from pgperf.provision import choose_backend, provision
from pgperf.provision.docker import DockerBackend, ping_engine
from pgperf.provision.local import LocalBackend, find_binaries

pytestmark = pytest.mark.integration


def _docker_answers() -> bool:
    try:
        ping_engine()
    except BackendUnavailable:
        return False
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)  # polling a process table entry against a deadline
    return False


def test_auto_prefers_docker_and_falls_over_to_local() -> None:
    config = resolve_config(cli={"backend": "auto", "cache_dir": "off"}, env={})
    started = time.monotonic()
    choice = choose_backend(config)
    if _docker_answers():
        assert choice.backend.name == "docker"
    else:
        assert choice.backend.name == "local"
        assert "docker skipped" in choice.reason
        assert "no Docker engine answered" in choice.reason
        # The docker probe must not hold the run up for long.
        assert time.monotonic() - started < 10


def test_explicit_docker_without_engine_fails_fast_and_clearly() -> None:
    config = resolve_config(cli={"backend": "docker"}, env={})
    if _docker_answers():
        with provision(config, announce=False) as server:
            with psycopg.connect(server.conninfo) as conn:
                row = conn.execute("SELECT current_setting('jit')").fetchone()
            assert row == ("off",)
        return
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        choose_backend(config)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert "docker" in message
    assert "hint:" in message
    with (
        pytest.raises(BackendUnavailable, match="Docker"),
        DockerBackend(image="postgres:17").start(),
    ):
        pytest.fail("the docker backend must not start without an engine")


def test_local_lifecycle_leaves_nothing_behind() -> None:
    binaries = find_binaries()
    assert binaries is not None, "the local backend needs PostgreSQL installed (see .ci/run)"
    backend = LocalBackend(cache_dir=None)
    with backend.start() as server:
        with psycopg.connect(server.conninfo, autocommit=True) as conn:
            data_dir = Path(str(conn.execute("SHOW data_directory").fetchone()[0]))  # type: ignore[index]
            settings = dict(conn.execute("SELECT name, setting FROM pg_settings").fetchall())
        assert server.major == binaries.major
        assert settings["listen_addresses"] == "127.0.0.1"
        assert settings["shared_preload_libraries"] == "pg_stat_statements"
        assert server.settings["jit"] == "off"
        postmaster_pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        assert _pid_alive(postmaster_pid)
    assert not _pid_alive(postmaster_pid)
    assert not data_dir.exists()
    assert not data_dir.parent.exists()


_CHILD = textwrap.dedent(
    """
    import json, sys, signal
    from pgperf.config import resolve_config
    from pgperf.provision import provision
    import psycopg
    config = resolve_config(cli={"backend": "local", "cache_dir": "off"}, env={})
    with provision(config, announce=False) as server:
        with psycopg.connect(server.conninfo) as conn:
            data_dir = conn.execute("SHOW data_directory").fetchone()[0]
        print(json.dumps({"data_dir": data_dir}), flush=True)
        signal.pause()
    """
)


def _start_child() -> tuple[subprocess.Popen[str], Path, int]:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line, "the child exited before its server was ready"
    data_dir = Path(json.loads(line)["data_dir"])
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    return child, data_dir, pid


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_stops_its_server(sig: signal.Signals) -> None:
    child, data_dir, postmaster = _start_child()
    child.send_signal(sig)
    child.wait(timeout=60)
    assert not _pid_alive(postmaster), f"postgres {postmaster} survived {sig.name}"
    assert not data_dir.parent.exists(), "the throwaway cluster dir was left behind"


def test_killed_run_takes_its_server_down_and_next_run_sweeps_the_dir() -> None:
    child, data_dir, postmaster = _start_child()
    child.kill()  # SIGKILL: no Python clean-up runs at all
    child.wait(timeout=10)
    assert _wait_gone(postmaster), "postgres outlived a SIGKILLed owner (parent-death signal)"
    with LocalBackend(cache_dir=None).start():
        pass
    assert not data_dir.parent.exists(), "the next run did not sweep the orphaned dir"
