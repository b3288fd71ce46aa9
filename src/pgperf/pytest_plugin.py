"""pytest wiring: the suite's options and thin session fixtures that call the engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pgperf import database
from pgperf.config import Config, resolve_config
from pgperf.provision import ServerHandle, provision

# (option, Config field, help); each also reads an ini key "pgperf_<field>".
_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("--pg-backend", "backend", "auto | docker | local | dsn (env PGPERF_BACKEND)"),
    ("--pg-dsn", "dsn", "use an existing server; pgperf creates pgperf_* dbs (env PGPERF_DSN)"),
    ("--profile", "profile", "volume profile: ci | default | large (env PGPERF_PROFILE)"),
    ("--seed", "seed", "random seed of the data generators (env PGPERF_SEED)"),
    ("--pg-image", "docker_image", "image of the docker backend (env PGPERF_DOCKER_IMAGE)"),
    ("--pg-bindir", "pg_bindir", "PostgreSQL bin dir of the local backend"),
    ("--pg-cache-dir", "cache_dir", "where the local backend keeps templates ('off': none)"),
    ("--baseline", "baseline", "baseline results file to compare with"),
    ("--regression-threshold", "regression_threshold", "e.g. 20% (default)"),
    ("--latency-floor-ms", "latency_floor_ms", "latency changes below this never fail"),
    ("--significance", "significance", "p-value below which a slowdown is significant"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the suite's command-line options and ini keys."""
    group = parser.getgroup("pgperf", "pgperf performance suite")
    for flag, field_name, help_text in _OPTIONS:
        group.addoption(flag, dest=f"pgperf_{field_name}", default=None, help=help_text)
        parser.addini(f"pgperf_{field_name}", help_text, default=None)


def config_from_pytest(pytest_config: pytest.Config) -> Config:
    """Resolve the run's Config from pytest's options, its ini file and the environment."""
    cli = {f: pytest_config.getoption(f"pgperf_{f}") for _, f, _ in _OPTIONS}
    ini = {f: pytest_config.getini(f"pgperf_{f}") for _, f, _ in _OPTIONS}
    return resolve_config(cli=cli, ini=ini)


@pytest.fixture(scope="session")
def pgperf_config(pytestconfig: pytest.Config) -> Config:
    """The run's configuration."""
    return config_from_pytest(pytestconfig)


@pytest.fixture(scope="session")
def pg_server(pgperf_config: Config) -> Iterator[ServerHandle]:
    """A running server for the whole session, stopped afterwards."""
    with provision(pgperf_config) as server:
        if server.persistent and server.backend == "local":
            database.drop_stale_runs(server)
        yield server


@pytest.fixture
def schema_db(pg_server: ServerHandle, pgperf_config: Config) -> Iterator[str]:
    """A fresh database of the suite's own with the platform schema applied; dropped after."""
    with database.scratch_database(pg_server, label="schema") as dsn:
        with database.connect(dsn) as conn:
            database.apply_schema(conn, pgperf_config.sql_dir / "schema.sql")
        yield dsn
