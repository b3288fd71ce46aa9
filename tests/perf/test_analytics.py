"""Analytics (1 s): the analytics screen, each query and generic plans."""

from __future__ import annotations

import pytest

from pgperf.measure.suite import GenericPlanTests, PageTests, QueryTests

pytestmark = pytest.mark.perf


class TestAnalytics(PageTests, QueryTests, GenericPlanTests):
    feature = "analytics"
