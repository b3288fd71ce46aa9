"""Agents (200 ms): the marketplace screen, each query and generic plans."""

from __future__ import annotations

import pytest

from pgperf.measure.suite import GenericPlanTests, PageTests, QueryTests

pytestmark = pytest.mark.perf


class TestAgents(PageTests, QueryTests, GenericPlanTests):
    feature = "agents"
