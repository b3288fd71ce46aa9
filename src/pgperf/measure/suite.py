"""The feature benchmarks as pytest test classes, parametrized from the query catalog.

A feature's test module is one class naming its feature and the parts it has, e.g.
``class TestDashboard(PageTests, QueryTests, GenericPlanTests): feature = "dashboard"``;
``tests/perf/conftest.py`` hands ``pytest_generate_tests`` to :func:`parametrize`. Each test
measures its benchmark, then asserts the gate's own verdict on it (``Judging.judge``): a
benchmark fails here exactly when ``pgperf compare`` fails it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from pgperf.measure.catalog import Catalog
from pgperf.measure.plan import BenchSpec, SpecKind, feature_specs
from pgperf.measure.runner import Benchmark, BenchSession, run_benchmark


def check(benchmark: Benchmark, session: BenchSession, spec: BenchSpec) -> None:
    """Measure one benchmark and fail the test when the gate fails it."""
    name = str(getattr(benchmark, "name", spec.key))
    record = run_benchmark(benchmark, session, spec, name=name)
    session.records.append(record)
    verdict = session.judging.judge(record)
    assert not verdict.failed, f"{spec.key}: " + "; ".join(verdict.failures)


class FeatureSuite:
    """The feature a test class benchmarks; a concrete class must have every part it needs."""

    feature: ClassVar[str]


class PageTests(FeatureSuite):
    """The whole screen as the user sees it: every read of the feature in sequence."""

    def test_page(self, benchmark: Benchmark, bench_session: BenchSession, spec: BenchSpec) -> None:
        """The screen's plans and p95 as the gate judges them."""
        check(benchmark, bench_session, spec)


class QueryTests(FeatureSuite):
    """Each read alone, prepared as psycopg prepares it (custom plans)."""

    def test_query(
        self, benchmark: Benchmark, bench_session: BenchSession, spec: BenchSpec
    ) -> None:
        """Expected indexes, no undeclared Seq Scan or keyset Sort, p95 within budget."""
        check(benchmark, bench_session, spec)


class GenericPlanTests(FeatureSuite):
    """Reads that rely on a partial index, under ``plan_cache_mode = force_generic_plan``."""

    def test_generic_plan(
        self, benchmark: Benchmark, bench_session: BenchSession, spec: BenchSpec
    ) -> None:
        """The generic plan still uses the expected index and stays within budget."""
        check(benchmark, bench_session, spec)


class WritePathTests(FeatureSuite):
    """The feature's write steps in a rolled-back transaction, so data never drift."""

    def test_write_path(
        self, benchmark: Benchmark, bench_session: BenchSession, spec: BenchSpec
    ) -> None:
        """The write path's plans and p95 as the gate judges them."""
        check(benchmark, bench_session, spec)


_KIND_OF_TEST: dict[str, SpecKind] = {
    "test_page": "page",
    "test_query": "query",
    "test_generic_plan": "generic",
    "test_write_path": "write",
}
_PART_OF_KIND: dict[SpecKind, type[FeatureSuite]] = {
    "page": PageTests,
    "query": QueryTests,
    "generic": GenericPlanTests,
    "write": WritePathTests,
}


def check_parts(cls: type[FeatureSuite], catalog: Catalog) -> None:
    """Refuse a feature's class that lacks a part its catalog needs (it would measure less)."""
    missing = [
        part.__name__
        for kind, part in _PART_OF_KIND.items()
        if feature_specs(catalog, cls.feature, kind) and not issubclass(cls, part)
    ]
    if missing:
        raise TypeError(
            f"{cls.__qualname__} benchmarks {cls.feature!r} but lacks {', '.join(missing)}: "
            "its catalog has queries those parts measure; add them to the class bases"
        )


def parametrize(metafunc: pytest.Metafunc, catalog: Catalog) -> None:
    """Parametrize a FeatureSuite test from the catalog (a ``pytest_generate_tests`` body)."""
    cls: Any = metafunc.cls
    if cls is None or not issubclass(cls, FeatureSuite) or "feature" not in vars(cls):
        return
    check_parts(cls, catalog)
    kind = _KIND_OF_TEST.get(metafunc.function.__name__)
    if kind is not None:
        specs = feature_specs(catalog, cls.feature, kind)
        metafunc.parametrize("spec", [pytest.param(s, id=s.test_id) for s in specs])
