"""The docker backend: Testcontainers' PostgreSQL container, with the suite's settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pgperf.errors import BackendUnavailable
from pgperf.provision.base import Availability, ServerHandle, read_server_facts
from pgperf.provision.readiness import wait_until_ready
from pgperf.provision.settings import server_options

# The engine must answer within this many seconds for `auto` to choose docker.
PING_TIMEOUT_S = 2
_USER = "postgres"
_PASSWORD = "pgperf"  # a throwaway container reachable only from this machine


def _docker_error_types() -> tuple[type[BaseException], ...]:
    try:
        from docker.errors import DockerException
    except ImportError:  # pragma: no cover - docker is a hard dependency
        return (OSError,)
    return (DockerException, OSError)


def ping_engine(timeout_s: float = PING_TIMEOUT_S) -> str:
    """Return the Docker engine's version, or raise BackendUnavailable saying why not."""
    try:
        import docker

        client = docker.from_env(timeout=int(max(1, timeout_s)))
        try:
            client.ping()
            version = client.version().get("Version", "unknown")
        finally:
            client.close()
    except _docker_error_types() as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise BackendUnavailable(
            f"no Docker engine answered within {timeout_s:.0f}s ({first_line})",
            hint="start Docker (or set DOCKER_HOST), or use --pg-backend local / PGPERF_DSN",
        ) from exc
    return str(version)


class DockerBackend:
    """A PostgreSQL container started through Testcontainers."""

    name = "docker"

    def __init__(self, *, image: str, startup_timeout_s: float = 60.0) -> None:
        self._image = image
        self._timeout = startup_timeout_s

    def availability(self) -> Availability:
        """Say whether a Docker engine answers, and which image would run."""
        try:
            version = ping_engine()
        except BackendUnavailable as exc:
            return Availability(self.name, usable=False, detail=exc.message, hint=exc.hint or "")
        return Availability(
            self.name, usable=True, detail=f"Docker engine {version} answers; image {self._image}"
        )

    def _container(self) -> Any:
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer(
            self._image, username=_USER, password=_PASSWORD, dbname="postgres", driver=None
        )
        # The entrypoint passes these on to postgres; shm for parallel-safe shared memory.
        container.with_command(" ".join(server_options()))
        container.with_kwargs(shm_size="1g")
        return container

    @contextmanager
    def start(self) -> Iterator[ServerHandle]:
        """Run the container; Testcontainers removes it on exit (and its reaper after a crash)."""
        ping_engine()
        try:
            container = self._container()
            container.start()
        except _docker_error_types() as exc:
            raise BackendUnavailable(
                f"could not start a {self._image} container: {str(exc).strip()[:500]}",
                hint="check `docker run --rm hello-world`; or use --pg-backend local",
            ) from exc
        try:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(5432)
            conninfo = f"host={host} port={port} user={_USER} password={_PASSWORD} dbname=postgres"

            def log_tail() -> str:
                out, err = container.get_logs()
                text = (out + err).decode(errors="replace")
                return "\n".join(text.splitlines()[-30:])

            wait_until_ready(
                conninfo,
                timeout_s=self._timeout,
                describe=f"container {self._image}",
                log_tail=log_tail,
            )
            version, major, settings = read_server_facts(conninfo)
            yield ServerHandle(self.name, conninfo, version, major, settings, persistent=False)
        finally:
            container.stop()
