"""pytest wiring: the suite's options and thin session fixtures that call the engine.

The options are the settings table's (``pgperf.config.SETTINGS``), the same flags ``pgperf``
takes, each also an ini key ``pgperf_<field>``. A setting that cannot be used (a bad value,
an unknown profile, no backend) stops the session once, with pytest's usage exit code 4.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pgperf.config import Config, resolve_config
from pgperf.data import database
from pgperf.data.templates import Template
from pgperf.errors import BackendUnavailable, ConfigError, PgperfError, ResultsFileError
from pgperf.measure.catalog import catalog_of
from pgperf.measure.run import (
    UsageRecorder,
    attribute_usage,
    recording_usage,
    run_metadata,
    with_usage,
)
from pgperf.measure.runner import BenchSession, Judging, run_length
from pgperf.options import ALL_GROUPS, add_options, chosen, ini_key, rows
from pgperf.progress import make_reporter
from pgperf.provision import ServerHandle
from pgperf.verdict.findings import Thresholds
from pgperf.verdict.record import RunMetadata, WhatIf, parse_setting
from pgperf.verdict.results import check_same_data, load_results

_CONFIG = pytest.StashKey[Config]()
_RUN = pytest.StashKey["PerfRun"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the suite's command-line options and ini keys."""
    group = parser.getgroup("pgperf", "pgperf performance suite")
    add_options(group.addoption, ALL_GROUPS)
    for row in rows(ALL_GROUPS):
        parser.addini(ini_key(row), row.help, default=None)
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
    group.addoption(
        "--what-if-sql",
        dest="pgperf_what_if_sql",
        action="append",
        metavar="STATEMENT",
        help="what-if run: run this SQL in the run's clone first, e.g. an UPDATE or a CREATE "
        "INDEX (repeatable, in order)",
    )


def _setting_option(text: str) -> str:
    # Checked while parsing, so a typo stops the run before any server starts.
    try:
        parse_setting(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def pytest_configure(config: pytest.Config) -> None:
    """Resolve the run's Config once; a bad setting is one usage error (exit 4)."""
    cli = chosen(config.getoption, ALL_GROUPS)
    ini = {row.field: config.getini(ini_key(row)) for row in rows(ALL_GROUPS)}
    try:
        config.stash[_CONFIG] = resolve_config(cli=cli, ini=ini)
    except ConfigError as exc:
        raise pytest.UsageError(f"pgperf: {exc}") from None


def config_of(pytest_config: pytest.Config) -> Config:
    """The run's Config (resolved at configure time)."""
    return pytest_config.stash[_CONFIG]


def what_if_of(pytest_config: pytest.Config) -> WhatIf:
    """The run's what-if (--what-if-drop-index, --what-if-setting); empty for a normal run."""
    return WhatIf.from_options(
        pytest_config.getoption("pgperf_what_if_drop_index"),
        pytest_config.getoption("pgperf_what_if_setting"),
        pytest_config.getoption("pgperf_what_if_sql"),
    )


@contextmanager
def stopping_on_setup_errors() -> Iterator[None]:
    """A setup that cannot work for any test (no backend, bad profile) ends the session once."""
    try:
        yield
    except (ConfigError, BackendUnavailable, ResultsFileError) as exc:
        pytest.exit(f"pgperf: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    except PgperfError as exc:
        pytest.exit(f"pgperf: {exc}", returncode=pytest.ExitCode.TESTS_FAILED)


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
def pgperf_config(pytestconfig: pytest.Config) -> Config:
    """The run's configuration."""
    return config_of(pytestconfig)


@pytest.fixture(scope="session")
def pg_server(pgperf_config: Config) -> Iterator[ServerHandle]:
    """A running server for the whole session, stopped afterwards."""
    with stopping_on_setup_errors(), database.provisioned(pgperf_config) as server:
        yield server


@pytest.fixture
def schema_db(pg_server: ServerHandle, pgperf_config: Config) -> Iterator[str]:
    """A fresh database of the suite's own with the platform schema applied; dropped after."""
    with database.scratch_database(pg_server, label="schema") as dsn:
        with database.connect(dsn) as conn:
            database.apply_schema(conn, pgperf_config.layout.schema_file)
        yield dsn


@pytest.fixture(scope="session")
def seeded_template(
    pg_server: ServerHandle, pgperf_config: Config, pytestconfig: pytest.Config
) -> Template:
    """The seeded template of the run's profile and seed (reused when its hash matches)."""
    from pgperf.data.seeding import ensure_seeded_template

    with _progress_shown(pytestconfig), stopping_on_setup_errors():
        reporter = make_reporter(enabled=True)
        return ensure_seeded_template(pg_server, pgperf_config, reporter=reporter)


@pytest.fixture(scope="session")
def bench_template(
    pg_server: ServerHandle,
    pgperf_config: Config,
    seeded_template: Template,
    pytestconfig: pytest.Config,
) -> Template:
    """The seeded template plus performance indexes, monitoring and ANALYZE (reused by hash)."""
    from pgperf.indexes.template import ensure_bench_template

    with _progress_shown(pytestconfig), stopping_on_setup_errors():
        reporter = make_reporter(enabled=True)
        return ensure_bench_template(pg_server, pgperf_config, seeded_template, reporter=reporter)


@pytest.fixture(scope="session")
def bench_db(
    pytestconfig: pytest.Config, pg_server: ServerHandle, bench_template: Template
) -> Iterator[str]:
    """DSN of a session clone of the bench template for read benchmarks; dropped at the end."""
    from pgperf.measure import whatif

    with database.scratch_database(pg_server, template=bench_template.name, label="bench") as dsn:
        # Before any benchmark connects: ALTER DATABASE SET reaches new sessions only.
        with stopping_on_setup_errors():
            whatif.apply(dsn, what_if_of(pytestconfig))
        yield dsn


@dataclass
class PerfRun:
    """What the results file needs from a benchmark run beyond pytest-benchmark's data."""

    meta: RunMetadata
    session: BenchSession
    usage: UsageRecorder = field(default_factory=UsageRecorder)


def _judging(config: Config, meta: RunMetadata) -> Judging:
    """The in-process verdict: the gate's thresholds and, if one is named, its baseline."""
    baseline = load_results(config.baseline, role="baseline") if config.baseline else None
    if baseline is not None:
        check_same_data(baseline, meta, "this run")
    return Judging(Thresholds.from_config(config), baseline, meta)


@pytest.fixture(scope="session")
def bench_session(
    request: pytest.FixtureRequest, bench_db: str, pg_server: ServerHandle, pgperf_config: Config
) -> Iterator[BenchSession]:
    """What the feature benchmarks share: the catalog, the run length, the in-process verdict."""
    config = pgperf_config
    meta = run_metadata(config, pg_server, what_if=what_if_of(request.config))
    with stopping_on_setup_errors():
        catalog, judging = catalog_of(config.layout), _judging(config, meta)
    population = config.layout.population_file
    session = BenchSession(
        bench_db,
        catalog,
        run_length(config.profile),
        judging,
        population=population if population.exists() else None,
        seed=config.seed,
    )
    run = PerfRun(meta, session)
    request.config.stash[_RUN] = run
    with recording_usage(bench_db) as usage:
        run.usage = usage
        yield session


@pytest.fixture(scope="session")
def pgbench_path(pgperf_config: Config) -> Path:
    """The pgbench of the installed PostgreSQL (for the cross-check)."""
    from pgperf.measure.crosscheck import find_pgbench

    return find_pgbench(pgperf_config.pg_bindir)


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_json(
    config: pytest.Config, benchmarks: list[Any], output_json: dict[str, Any]
) -> None:
    """Add the suite's metadata (the "pgperf" object) to pytest-benchmark's results JSON."""
    run = config.stash.get(_RUN, None)
    if run is None:
        return
    usage = attribute_usage(run.usage.usage, run.session.records)
    output_json["pgperf"] = with_usage(run.meta, usage).to_json()
