"""Playground (100 ms): the screen, each query, generic plans and the write path."""

from __future__ import annotations

import pytest

from pgperf.measure.suite import GenericPlanTests, PageTests, QueryTests, WritePathTests

pytestmark = pytest.mark.perf


class TestPlayground(PageTests, QueryTests, GenericPlanTests, WritePathTests):
    feature = "playground"
