"""Feature benchmarks and load scenarios: parametrized from the platform's catalog."""

from __future__ import annotations

from functools import cache

import pytest

from pgperf.commands.pytest_plugin import config_of
from pgperf.config import Layout
from pgperf.load.scenarios import ScenarioSpec, load_scenarios
from pgperf.measure import suite
from pgperf.measure.catalog import Catalog, catalog_of


@cache
def catalog(layout: Layout) -> Catalog:
    """The catalog of sql/queries and budgets.toml, loaded (and validated) once."""
    return catalog_of(layout)


@cache
def scenarios(layout: Layout, seed: int) -> dict[str, ScenarioSpec]:
    """The load scenarios of sql/load/scenarios.toml, by name."""
    return load_scenarios(layout.load_dir, catalog(layout), seed=seed)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Queries, personas and write paths come from sql/queries and budgets.toml."""
    config = config_of(metafunc.config)
    suite.parametrize(metafunc, catalog(config.layout))
    if "scenario" in metafunc.fixturenames:
        names = list(scenarios(config.layout, config.seed))
        metafunc.parametrize("scenario", names)


@pytest.fixture
def scenario_spec(scenario: str, pytestconfig: pytest.Config) -> ScenarioSpec:
    """The scenario a load test runs."""
    config = config_of(pytestconfig)
    return scenarios(config.layout, config.seed)[scenario]
