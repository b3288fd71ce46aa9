"""Provisioning: one Protocol (Backend), three backends, and `auto` that picks one."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from pgperf.config import Config
from pgperf.errors import BackendUnavailable
from pgperf.provision.base import Availability, Backend, ServerHandle
from pgperf.provision.docker import DockerBackend
from pgperf.provision.dsn import DsnBackend
from pgperf.provision.local import LocalBackend

__all__ = [
    "Availability",
    "Backend",
    "Choice",
    "ServerHandle",
    "all_backends",
    "choose_backend",
    "provision",
]


def all_backends(config: Config) -> dict[str, Backend]:
    """Every backend, configured from ``config``, by name."""
    return {
        "docker": DockerBackend(
            image=config.docker_image, startup_timeout_s=config.startup_timeout_s
        ),
        "local": LocalBackend(
            bindir=config.pg_bindir,
            cache_dir=config.cache_dir,
            startup_timeout_s=config.startup_timeout_s,
        ),
        "dsn": DsnBackend(config.dsn),
    }


@dataclass(frozen=True)
class Choice:
    """The backend a run will use, and why (the failover trail when `auto` chose)."""

    backend: Backend
    reason: str


def choose_backend(config: Config) -> Choice:
    """Resolve `auto` (docker, then local) or check an explicit backend is usable."""
    backends = all_backends(config)
    if config.backend != "auto":
        backend = backends[config.backend]
        found = backend.availability()
        if not found.usable:
            raise BackendUnavailable(
                f"backend {found.backend!r} was requested but is not usable: {found.detail}",
                hint=found.hint or "run `pgperf doctor` to see which backends work here",
            )
        return Choice(backend, f"{found.backend} (requested): {found.detail}")
    trail: list[Availability] = []
    for name in ("docker", "local"):
        found = backends[name].availability()
        if found.usable:
            skipped = "; ".join(f"{a.backend} skipped: {a.detail}" for a in trail)
            reason = f"{name} (auto): {found.detail}" + (f" [{skipped}]" if skipped else "")
            return Choice(backends[name], reason)
        trail.append(found)
    details = "\n".join(f"  - {a.backend}: {a.detail}" for a in trail)
    raise BackendUnavailable(
        f"no PostgreSQL server is available (auto tried docker, then local):\n{details}",
        hint="start Docker; or install PostgreSQL (apt-get install -y postgresql); "
        "or set PGPERF_DSN to a server you run (dbname=postgres)",
    )


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    # SIGTERM (CI cancelling a job) must unwind like Ctrl-C so the server is stopped.
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def provision(config: Config, *, announce: bool = True) -> Iterator[ServerHandle]:
    """Give a ready server for the block; stop and remove whatever was started after it."""
    choice = choose_backend(config)
    if announce:
        print(f"pgperf: backend {choice.reason}", file=sys.stderr)
    with _sigterm_as_interrupt(), choice.backend.start() as server:
        yield server
