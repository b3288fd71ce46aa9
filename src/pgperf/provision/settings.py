"""Server settings every backend the suite controls applies, and why each one is set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple


class Setting(NamedTuple):
    """One postgresql.conf setting and the reason the suite relies on it."""

    value: str
    why: str


SERVER_SETTINGS: Mapping[str, Setting] = {
    "shared_preload_libraries": Setting(
        "pg_stat_statements", "slow_queries_analysis and the load scenarios read its counters"
    ),
    "pg_stat_statements.track": Setting("all", "count statements run inside functions too"),
    "track_io_timing": Setting("on", "EXPLAIN (BUFFERS) and pg_stat_statements report I/O time"),
    "log_min_duration_statement": Setting("100ms", "the platform's slow-query threshold is 100 ms"),
    "jit": Setting("off", "JIT compile time adds tens of ms at random to analytics queries"),
    "max_parallel_workers_per_gather": Setting(
        "0", "parallel plans on a 2-core noisy runner make timings and plans unstable"
    ),
    "autovacuum": Setting(
        "off", "the suite runs VACUUM (ANALYZE) itself; a background vacuum mid-run moves stats"
    ),
    "shared_buffers": Setting("1GB", "the ci and default data sets stay cached between rounds"),
    "effective_cache_size": Setting("4GB", "planner assumes a cached working set, as production"),
    "random_page_cost": Setting("1.1", "SSD-like storage, as the platform's production"),
    "work_mem": Setting("32MB", "report aggregations sort in memory, as tuned in production"),
    "maintenance_work_mem": Setting("512MB", "index builds after seeding finish quickly"),
    "fsync": Setting("off", "a throwaway cluster: disk flushes would only add noise"),
    "synchronous_commit": Setting("off", "write-path timings measure the database, not the disk"),
    "full_page_writes": Setting("off", "a throwaway cluster needs no torn-page protection"),
    "wal_level": Setting("minimal", "COPY into a table created in the same transaction skips WAL"),
    "max_wal_senders": Setting("0", "required by wal_level=minimal"),
    "max_wal_size": Setting("8GB", "no checkpoint storm in the middle of seeding or a benchmark"),
    "checkpoint_timeout": Setting("30min", "no timed checkpoint in the middle of a benchmark"),
    "lc_messages": Setting("C", "error texts the suite and its users can grep"),
}


def server_options() -> list[str]:
    """The settings as postgres command-line options: ["-c", "name=value", ...]."""
    options: list[str] = []
    for name, setting in SERVER_SETTINGS.items():
        options += ["-c", f"{name}={setting.value}"]
    return options
