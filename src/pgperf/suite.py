"""The feature benchmarks as pytest test classes, parametrized from the query catalog.

A feature's test module is one class naming its feature and the parts it has, e.g.
``class TestDashboard(PageTests, QueryTests, GenericPlanTests): feature = "dashboard"``;
``tests/perf/conftest.py`` hands ``pytest_generate_tests`` to :func:`parametrize`.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

import pytest

from pgperf import bench
from pgperf.bench import Benchmark, BenchSession, Outcome
from pgperf.catalog import Catalog, Query, default_catalog
from pgperf.config import PROJECT_ROOT


@cache
def catalog() -> Catalog:
    """The project's query catalog, loaded (and validated) once per session."""
    return default_catalog(PROJECT_ROOT)


def _check(session: BenchSession, outcome: Outcome, *extra: str) -> None:
    problems = [*extra, *bench.verdict(session, outcome)]
    assert not problems, "\n".join(problems)


class FeatureSuite:
    """The feature a test class benchmarks; a concrete class must have every part it needs."""

    feature: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "feature" not in cls.__dict__:
            return  # a part (mixin), not a feature's test class
        needed = {
            PageTests: True,
            QueryTests: True,
            GenericPlanTests: bool(catalog().feature(cls.feature).partial_reads),
            WritePathTests: bool(catalog().feature(cls.feature).writes),
        }
        missing = [
            part.__name__ for part, need in needed.items() if need and not issubclass(cls, part)
        ]
        if missing:
            raise TypeError(
                f"{cls.__qualname__} benchmarks {cls.feature!r} but lacks {', '.join(missing)}: "
                "its catalog has queries those parts measure; add them to the class bases"
            )


class PageTests(FeatureSuite):
    """The whole screen as the user sees it: every read of the feature in sequence."""

    def test_page(self, benchmark: Benchmark, bench_session: BenchSession, persona: str) -> None:
        """The screen's p95 within the feature's budget."""
        feature = catalog().feature(self.feature)
        _check(bench_session, bench.bench_page(benchmark, bench_session, feature, persona=persona))


class QueryTests(FeatureSuite):
    """Each read alone, prepared as psycopg prepares it (custom plans)."""

    def test_query(
        self, benchmark: Benchmark, bench_session: BenchSession, query: Query, persona: str
    ) -> None:
        """Expected indexes, no undeclared Seq Scan or keyset Sort, p95 within budget."""
        outcome = bench.bench_query(benchmark, bench_session, query, persona=persona, mode="custom")
        _check(bench_session, outcome, *bench.partial_problems(bench_session, query))


class GenericPlanTests(FeatureSuite):
    """Reads that rely on a partial index, under ``plan_cache_mode = force_generic_plan``."""

    def test_generic_plan(
        self, benchmark: Benchmark, bench_session: BenchSession, query: Query, persona: str
    ) -> None:
        """The generic plan still uses the expected index and stays within budget."""
        outcome = bench.bench_query(
            benchmark, bench_session, query, persona=persona, mode="generic"
        )
        _check(bench_session, outcome)


class WritePathTests(FeatureSuite):
    """The feature's write steps in a rolled-back transaction, so data never drift."""

    def test_write_path(
        self, benchmark: Benchmark, bench_session: BenchSession, persona: str
    ) -> None:
        """The write path's p95 within the feature's budget."""
        feature = catalog().feature(self.feature)
        _check(
            bench_session, bench.bench_writes(benchmark, bench_session, feature, persona=persona)
        )


def _pairs(feature: str, *, partial_only: bool) -> list[Any]:
    pairs = bench.feature_params(catalog(), feature, partial_only=partial_only)
    return [pytest.param(q, p, id=bench.param_id((q, p))) for q, p in pairs]


def parametrize(metafunc: pytest.Metafunc) -> None:
    """Parametrize a FeatureSuite test from the catalog (a ``pytest_generate_tests`` body)."""
    cls = metafunc.cls
    if cls is None or not issubclass(cls, FeatureSuite):
        return
    feature = catalog().feature(cls.feature)
    name = metafunc.function.__name__
    if name == "test_page":
        metafunc.parametrize("persona", feature.personas)
    elif name == "test_write_path":
        metafunc.parametrize("persona", feature.write_personas)
    elif name in ("test_query", "test_generic_plan"):
        pairs = _pairs(cls.feature, partial_only=name == "test_generic_plan")
        metafunc.parametrize(("query", "persona"), pairs)
