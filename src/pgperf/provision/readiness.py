"""Readiness: poll a real query against a deadline, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg

from pgperf.errors import ServerStartError

# Between polls; short, because a fresh local cluster answers within a second.
_POLL_INTERVAL_S = 0.05


def wait_until_ready(
    conninfo: str,
    *,
    timeout_s: float,
    describe: str,
    log_tail: Callable[[], str] = lambda: "",
    still_running: Callable[[], bool] = lambda: True,
) -> float:
    """Poll ``SELECT 1`` until it answers; return the seconds it took or raise ServerStartError."""
    started = time.monotonic()
    deadline = started + timeout_s
    last_error = "no attempt made"
    while time.monotonic() < deadline:
        if not still_running():
            raise ServerStartError(
                f"{describe} exited before it accepted connections ({last_error}).\n"
                f"server log (tail):\n{log_tail()}",
                hint="read the log above; a port clash or a bad setting is the usual cause",
            )
        try:
            with psycopg.connect(conninfo, connect_timeout=2, autocommit=True) as conn:
                conn.execute("SELECT 1").fetchone()
            return time.monotonic() - started
        except psycopg.OperationalError as exc:
            last_error = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        time.sleep(_POLL_INTERVAL_S)  # pause between polls of the real query, not a fixed wait
    raise ServerStartError(
        f"{describe} did not answer SELECT 1 within {timeout_s:.0f}s (last error: {last_error}).\n"
        f"server log (tail):\n{log_tail()}",
        hint="raise PGPERF_STARTUP_TIMEOUT on a slow machine, or read the log above",
    )
