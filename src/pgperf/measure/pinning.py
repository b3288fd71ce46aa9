"""Pin a same-run A/B to the cores: both arms' backends on one core, the client on another.

Two connections running the same sub-millisecond statement in alternating rounds differ by
up to 1.7x in A/A, depending on where the kernel happens to place the client and the two
backend processes on a small machine. With both backends on one core and the client on
another, each arm's round runs under the same placement, and A/A ratios stay within 1%.
Pinning needs the backends to be processes of this machine that this user may move (the
local backend, or a dsn server on this host run as us or with root); otherwise it is
reported as not pinned, with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from pgperf.data.database import Connection
from pgperf.host import process_cpu_s


@dataclass(frozen=True)
class Placement:
    """Where the client and the backends run, or why they could not be pinned."""

    client_core: int | None
    backend_core: int | None
    reason: str = ""

    @property
    def pinned(self) -> bool:
        """Whether the backends and the client were put on separate cores."""
        return self.client_core is not None and self.backend_core is not None

    @property
    def described(self) -> str:
        """One line for the verdict's notes."""
        if self.pinned:
            return f"client on CPU {self.client_core}, both backends on CPU {self.backend_core}"
        return self.reason


def plan_placement(cores: Sequence[int]) -> Placement:
    """The cores to use among those this process may run on (at least two are needed)."""
    if len(cores) < 2:
        return Placement(None, None, f"only {len(cores)} CPU available to this process")
    return Placement(cores[0], cores[-1])


def backend_pid(conn: Connection) -> int:
    """The server process serving ``conn``."""
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    return int(str(row[0]))


def pin_backends(conns: Sequence[Connection], placement: Placement) -> Placement:
    """Move the backends of ``conns`` to the placement's core; say why if that is impossible."""
    if not placement.pinned:
        return placement
    try:
        for conn in conns:
            pid = backend_pid(conn)
            # A pid of a server in another namespace (docker) may name an unrelated process.
            if process_cpu_s(pid) is None:
                return Placement(None, None, f"backend {pid} is not a process of this machine")
            os.sched_setaffinity(pid, {placement.backend_core or 0})
    except (PermissionError, ProcessLookupError) as exc:
        return Placement(None, None, f"cannot move the server's backends: {exc.strerror}")
    return placement


@contextmanager
def client_pinned(placement: Placement) -> Iterator[None]:
    """Run the block's thread on the client's core; restore its affinity afterwards."""
    if not placement.pinned or not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {placement.client_core or 0})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def available_cores() -> list[int]:
    """The CPUs this process may run on, in order."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
