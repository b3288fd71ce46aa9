"""Every feature of the catalog has a test class with every part its queries need."""

from __future__ import annotations

import re

import pytest

from pgperf.config import PROJECT_ROOT
from pgperf.suite import FeatureSuite, PageTests, QueryTests, catalog


def test_every_catalog_feature_has_a_test_module() -> None:
    declared = set()
    for module in (PROJECT_ROOT / "tests" / "perf").glob("test_*.py"):
        declared |= set(re.findall(r'^\s+feature = "(\w+)"', module.read_text(), re.MULTILINE))
    assert declared == set(catalog().features)


def test_a_class_missing_a_needed_part_is_refused() -> None:
    with pytest.raises(TypeError, match="lacks GenericPlanTests") as caught:
        type("TestDashboardBroken", (PageTests, QueryTests), {"feature": "dashboard"})
    assert "add them to the class bases" in str(caught.value)


def test_parts_without_a_feature_are_accepted() -> None:
    part = type("Extra", (FeatureSuite,), {})
    assert issubclass(part, FeatureSuite)
