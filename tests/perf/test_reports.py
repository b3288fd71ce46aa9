"""Reports (5 s): the reports screen, each report and the materialized-view refresh."""

from __future__ import annotations

import pytest

from pgperf.measure.suite import PageTests, QueryTests, WritePathTests

pytestmark = pytest.mark.perf


class TestReports(PageTests, QueryTests, WritePathTests):
    feature = "reports"
