"""`pgperf db up` hands out a working DSN and cleans up on Ctrl-C and on `db down`."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.integration

_SERVER_ARGS = ["--backend", "local", "--profile", "ci"]


def _pgperf(*args: str) -> list[str]:
    return [sys.executable, "-m", "pgperf.cli", *args]


def _read_dsn(process: subprocess.Popen[str], timeout_s: float) -> str:
    """Read the child's stdout until its DSN line, against a deadline."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not selector.select(timeout=1.0):
            assert process.poll() is None, "db up exited before printing its DSN"
            continue
        line = process.stdout.readline()
        if line.startswith("DSN: "):
            return line.removeprefix("DSN: ").strip()
        assert line, "db up closed its output before printing a DSN"
    pytest.fail(f"db up printed no DSN within {timeout_s:.0f}s")


def _postmaster_of(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
        assert row is not None
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'tasks'").fetchone()
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


def test_db_up_serves_until_ctrl_c_then_stops_the_server() -> None:
    process = subprocess.Popen(
        _pgperf("db", "up", *_SERVER_ARGS), stdout=subprocess.PIPE, text=True
    )
    try:
        dsn = _read_dsn(process, timeout_s=900)
        postmaster = _postmaster_of(dsn)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 0
        assert _gone(postmaster), "the server outlived db up"
    finally:
        if process.poll() is None:
            process.kill()


def test_db_up_detach_then_down(tmp_path: Path) -> None:
    up = subprocess.run(
        _pgperf("db", "up", "--detach", *_SERVER_ARGS),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert up.returncode == 0, up.stderr
    dsn = next(line for line in up.stdout.splitlines() if line.startswith("DSN: "))[5:]
    postmaster = _postmaster_of(dsn)
    again = subprocess.run(
        _pgperf("db", "up", "--detach", *_SERVER_ARGS), capture_output=True, text=True, check=False
    )
    assert again.returncode == 2
    assert "db down" in again.stderr
    down = subprocess.run(_pgperf("db", "down"), capture_output=True, text=True, check=False)
    assert down.returncode == 0, down.stdout
    assert "stopped" in down.stdout
    assert _gone(postmaster)
