"""pytest wiring: the suite's options and thin session fixtures that call the engine."""

from __future__ import annotations

import argparse
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pgperf import bench, crosscheck, database, pressure, whatif
from pgperf.config import Config, resolve_config
from pgperf.provision import ServerHandle, provision
from pgperf.seeding import Template

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
    group.addoption(
        "--load-shape",
        dest="pgperf_load_shape",
        choices=("short", "full"),
        default="short",
        help="load scenarios: short (a few seconds, make test) or full (make perf-load)",
    )
    group.addoption(
        "--what-if-drop-index",
        dest="pgperf_what_if_drop_index",
        action="append",
        metavar="NAME",
        help="what-if run: drop this index in the run's clone first (repeatable)",
    )
    group.addoption(
        "--what-if-setting",
        dest="pgperf_what_if_setting",
        action="append",
        type=_setting_option,
        metavar="NAME=VALUE",
        help="what-if run: ALTER DATABASE <run's clone> SET NAME = VALUE first (repeatable)",
    )


def _setting_option(text: str) -> str:
    # Checked while parsing, so a typo stops the run before any server starts.
    try:
        whatif.parse_setting(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


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


@contextmanager
def _progress_shown(pytest_config: pytest.Config) -> Iterator[None]:
    """Let seeding and index builds show their progress through pytest's output capture."""
    capture = pytest_config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        yield
        return
    with capture.global_and_fixture_disabled():
        yield


@pytest.fixture(scope="session")
def seeded_template(
    pg_server: ServerHandle, pgperf_config: Config, pytestconfig: pytest.Config
) -> Template:
    """The seeded template of the run's profile and seed (reused when its hash matches)."""
    from pgperf.seeding import ensure_seeded_template

    with _progress_shown(pytestconfig):
        return ensure_seeded_template(pg_server, pgperf_config)


@pytest.fixture(scope="session")
def bench_template(
    pg_server: ServerHandle,
    pgperf_config: Config,
    seeded_template: Template,
    pytestconfig: pytest.Config,
) -> Template:
    """The seeded template plus performance indexes, monitoring and ANALYZE (reused by hash)."""
    from pgperf.indexes import ensure_bench_template

    with _progress_shown(pytestconfig):
        return ensure_bench_template(pg_server, pgperf_config, seeded_template)


def what_if_from_pytest(pytest_config: pytest.Config) -> whatif.WhatIf:
    """The run's what-if (--what-if-drop-index, --what-if-setting); empty for a normal run."""
    return whatif.from_options(
        pytest_config.getoption("pgperf_what_if_drop_index"),
        pytest_config.getoption("pgperf_what_if_setting"),
    )


@pytest.fixture(scope="session")
def bench_db(
    pytestconfig: pytest.Config, pg_server: ServerHandle, bench_template: Template
) -> Iterator[str]:
    """DSN of a session clone of the bench template for read benchmarks; dropped at the end."""
    with database.scratch_database(pg_server, template=bench_template.name, label="bench") as dsn:
        try:
            # Before any benchmark connects: ALTER DATABASE SET reaches new sessions only.
            whatif.apply(dsn, what_if_from_pytest(pytestconfig))
        except whatif.WhatIfError as exc:
            pytest.exit(f"pgperf: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
        yield dsn


_PERF_RUN = pytest.StashKey[bench.RunRecord]()


@pytest.fixture(scope="session")
def bench_session(
    request: pytest.FixtureRequest, bench_db: str, pg_server: ServerHandle, pgperf_config: Config
) -> Iterator[bench.BenchSession]:
    """What the feature benchmarks share; records the run's index usage for the results."""
    record = bench.RunRecord(pg_server)
    request.config.stash[_PERF_RUN] = record
    with bench.recorded_session(bench_db, pgperf_config, record) as session:
        yield session


@pytest.fixture(scope="session")
def pgbench_path(pgperf_config: Config) -> Path:
    """The pgbench of the installed PostgreSQL (for the cross-check)."""
    return crosscheck.find_pgbench(pgperf_config.pg_bindir)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Record the CPU pressure during each suite benchmark in its extra_info (``cpu_pressure``)."""
    reading = pressure.Pressure()
    try:
        with pressure.measured() as reading:
            return (yield)
    finally:
        _record_pressure(item, reading.share)


def _record_pressure(item: pytest.Item, share: float | None) -> None:
    extra = getattr(getattr(item, "funcargs", {}).get("benchmark"), "extra_info", None)
    # Suite benchmarks only (they carry a variant), and not load scenarios: their own clients
    # queue for the cores on purpose, which says nothing about other work on the machine.
    if not isinstance(extra, dict) or extra.get("variant") in (None, "load") or share is None:
        return
    extra["cpu_pressure"] = round(share, 3)


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_json(
    config: pytest.Config, benchmarks: list[Any], output_json: dict[str, Any]
) -> None:
    """Add the suite's metadata (the "pgperf" object) to pytest-benchmark's results JSON."""
    record = config.stash.get(_PERF_RUN, None)
    if record is not None:
        output_json["pgperf"] = bench.run_metadata(
            config_from_pytest(config), record, output_json["benchmarks"]
        )
        what_if = what_if_from_pytest(config)
        if what_if:
            output_json["pgperf"]["what_if"] = what_if.as_metadata()
