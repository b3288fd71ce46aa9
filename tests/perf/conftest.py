"""Feature benchmarks: parametrize each feature's test class from the query catalog."""

from __future__ import annotations

import pytest

from pgperf import suite


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Queries, personas and write paths come from sql/queries and budgets.toml."""
    suite.parametrize(metafunc)
