"""Reports (5 s): the reports screen, each report and the materialized-view refresh.

No report relies on a partial index, so there is no generic-plan test here
(tests/unit/test_catalog.py fails if one ever does, so the variant cannot be forgotten).
"""

from __future__ import annotations

import pytest

from pgperf import bench
from pgperf.bench import BenchSession
from pgperf.catalog import Query, default_catalog
from pgperf.config import PROJECT_ROOT

FEATURE = "reports"
CATALOG = default_catalog(PROJECT_ROOT)
PAIRS = bench.feature_params(CATALOG, FEATURE)

pytestmark = pytest.mark.perf


@pytest.mark.parametrize("persona", CATALOG.feature(FEATURE).personas)
def test_page(benchmark, bench_session: BenchSession, persona: str) -> None:
    outcome = bench.bench_page(benchmark, bench_session, CATALOG.feature(FEATURE), persona=persona)
    problems = bench.verdict(bench_session, outcome)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("query", "persona"), PAIRS, ids=map(bench.param_id, PAIRS))
def test_query(benchmark, bench_session: BenchSession, query: Query, persona: str) -> None:
    outcome = bench.bench_query(benchmark, bench_session, query, persona=persona, mode="custom")
    problems = bench.partial_problems(bench_session, query) + bench.verdict(bench_session, outcome)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("persona", CATALOG.feature(FEATURE).write_personas)
def test_write_path(benchmark, bench_session: BenchSession, persona: str) -> None:
    outcome = bench.bench_writes(
        benchmark, bench_session, CATALOG.feature(FEATURE), persona=persona
    )
    problems = bench.verdict(bench_session, outcome)
    assert not problems, "\n".join(problems)
