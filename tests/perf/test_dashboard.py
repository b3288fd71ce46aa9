"""Dashboard (50 ms): one whole dashboard load, each of its queries, generic plans."""

from __future__ import annotations

import pytest

from pgperf.measure.suite import GenericPlanTests, PageTests, QueryTests

pytestmark = pytest.mark.perf


class TestDashboard(PageTests, QueryTests, GenericPlanTests):
    feature = "dashboard"
