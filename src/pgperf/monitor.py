"""The application-facing monitor: ``from pgperf.monitor import PerformanceMonitor``.

It lives with the index stage (``pgperf.indexes.monitor``); this module is its public name.
"""

from pgperf.indexes.monitor import (
    IndexStats,
    IndexUsageDelta,
    PerformanceMonitor,
    RebuildResult,
    RelationSize,
    SlowQuery,
    UsageSnapshot,
)

__all__ = [
    "IndexStats",
    "IndexUsageDelta",
    "PerformanceMonitor",
    "RebuildResult",
    "RelationSize",
    "SlowQuery",
    "UsageSnapshot",
]
