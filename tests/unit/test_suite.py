"""Every feature of the catalog has a test class with every part its queries need, and each
part's test is parametrized with the benchmarks the catalog implies."""

from __future__ import annotations

import re

import pytest

from pgperf.config import PACKAGE_ROOT, Layout
from pgperf.measure.catalog import catalog_of
from pgperf.measure.plan import all_specs
from pgperf.measure.suite import (
    FeatureSuite,
    GenericPlanTests,
    PageTests,
    QueryTests,
    WritePathTests,
    check_parts,
)

pytest_plugins = ["pytester"]

LAYOUT = Layout(PACKAGE_ROOT)
CATALOG = catalog_of(LAYOUT)


def test_every_catalog_feature_has_a_test_module() -> None:
    declared = set()
    for module in (PACKAGE_ROOT / "tests" / "perf").glob("test_*.py"):
        declared |= set(re.findall(r'^\s+feature = "(\w+)"', module.read_text(), re.MULTILINE))
    assert declared == set(CATALOG.features)


def test_a_class_missing_a_needed_part_is_refused() -> None:
    broken = type("TestDashboardBroken", (PageTests, QueryTests), {"feature": "dashboard"})
    with pytest.raises(TypeError, match="lacks GenericPlanTests") as caught:
        check_parts(broken, CATALOG)
    assert "TestDashboardBroken benchmarks 'dashboard'" in str(caught.value)
    assert "add them to the class bases" in str(caught.value)


def test_every_missing_part_is_named() -> None:
    bare = type("TestPlaygroundBare", (FeatureSuite,), {"feature": "playground"})
    with pytest.raises(
        TypeError, match="lacks PageTests, QueryTests, GenericPlanTests, WritePathTests"
    ):
        check_parts(bare, CATALOG)


def test_a_class_with_every_needed_part_is_accepted() -> None:
    # reports has no partial reads: it needs no GenericPlanTests, but its write path a part.
    reports = type("TestReports", (PageTests, QueryTests, WritePathTests), {"feature": "reports"})
    check_parts(reports, CATALOG)
    with pytest.raises(TypeError, match="lacks WritePathTests"):
        check_parts(type("TestReports", (PageTests, QueryTests), {"feature": "reports"}), CATALOG)
    extra = (PageTests, QueryTests, GenericPlanTests, WritePathTests)
    check_parts(type("TestAgents", extra, {"feature": "agents"}), CATALOG)  # more is fine


def test_parts_without_a_feature_are_accepted() -> None:
    part = type("Extra", (FeatureSuite,), {})
    assert issubclass(part, FeatureSuite)


CONFTEST = """
from pathlib import Path

from pgperf.config import Layout
from pgperf.measure import suite
from pgperf.measure.catalog import catalog_of

CATALOG = catalog_of(Layout(Path({root!r})))


def pytest_generate_tests(metafunc):
    suite.parametrize(metafunc, CATALOG)
"""


def _collect(pytester: pytest.Pytester, module: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST.format(root=str(PACKAGE_ROOT)))
    pytester.makepyfile(test_feature=module)
    return pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider")


def test_parametrize_gives_each_test_its_specs_with_readable_ids(
    pytester: pytest.Pytester,
) -> None:
    module = """
from pgperf.measure.suite import GenericPlanTests, PageTests, QueryTests, WritePathTests


class TestPlayground(PageTests, QueryTests, GenericPlanTests, WritePathTests):
    feature = "playground"


class Helper(PageTests):
    '''A part subclassed without a feature: not parametrized.'''
"""
    result = _collect(pytester, module)
    collected = [line for line in result.outlines if "::" in line]
    specs = [s for s in all_specs(CATALOG) if s.feature == "playground"]
    test_of = {"page": "test_page", "query": "test_query", "generic": "test_generic_plan"}
    expected = [
        f"test_feature.py::TestPlayground::{test_of.get(s.kind, 'test_write_path')}[{s.test_id}]"
        for s in specs
    ]
    assert sorted(collected) == sorted(expected)
    assert "test_feature.py::TestPlayground::test_query[history_by_model-heavy]" in collected
    assert "test_feature.py::TestPlayground::test_write_path[median]" in collected
    assert "test_feature.py::TestPlayground::test_page[heavy]" in collected
    assert not any("Helper" in line for line in collected)
    assert result.ret == pytest.ExitCode.OK


def test_parametrize_refuses_a_class_missing_a_part(pytester: pytest.Pytester) -> None:
    module = """
from pgperf.measure.suite import PageTests, QueryTests


class TestDashboard(PageTests, QueryTests):
    feature = "dashboard"
"""
    result = _collect(pytester, module)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*TypeError: TestDashboard benchmarks 'dashboard' but lacks*"])
    assert "lacks GenericPlanTests" in result.stdout.str()
