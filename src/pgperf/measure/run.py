"""A benchmark run as a whole: its metadata (the ``"pgperf"`` object) and its index usage."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from pgperf.config import Config, Layout
from pgperf.files import file_hash
from pgperf.host import git_commit, machine_info
from pgperf.indexes.monitor import PerformanceMonitor
from pgperf.provision import ServerHandle
from pgperf.verdict.record import (
    BenchmarkRecord,
    IndexUsage,
    PostgresInfo,
    RunMetadata,
    WhatIf,
)


class UnusedIndexWarning(UserWarning):
    """Indexes of the performance file that no benchmarked query used."""


def content_hashes(layout: Layout) -> dict[str, str]:
    """Content hashes of what defines a run's data and queries (absent parts are left out)."""
    return {name: file_hash(path) for name, path in layout.content.items() if path.exists()}


def postgres_major(version: str) -> int:
    """The major of a server_version string: ``'15.18'`` → 15, ``'17.2 (Debian …)'`` → 17."""
    match = re.match(r"\s*(\d+)", version)
    if not match:
        raise ValueError(f"cannot read a PostgreSQL major from {version!r}")
    return int(match.group(1))


def run_metadata(
    config: Config,
    server: ServerHandle,
    *,
    what_if: WhatIf | None = None,
    commit: str | None = None,
    created_at: datetime | None = None,
) -> RunMetadata:
    """This run's metadata (index usage comes at the end of the run: :func:`with_usage`).

    ``commit`` defaults to the project's checked-out commit; ``created_at`` to now (UTC).
    """
    return RunMetadata(
        profile=config.profile,
        seed=config.seed,
        hashes=content_hashes(config.layout),
        postgres=PostgresInfo(
            version=server.version.split(" ", 1)[0],
            major=postgres_major(server.version),
            settings={str(k): str(v) for k, v in server.settings.items()},
        ),
        backend=server.backend,
        machine=machine_info(),
        git_commit=commit if commit is not None else git_commit(config.project_root),
        created_at=(created_at or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        what_if=what_if or WhatIf(),
    )


@dataclass
class UsageRecorder:
    """The index-usage delta over a run, filled in when the run ends."""

    usage: list[IndexUsage] = field(default_factory=list)


@contextmanager
def recording_usage(dsn: str) -> Iterator[UsageRecorder]:
    """For the block, record how often each index was scanned (the delta of the two snapshots)."""
    recorder = UsageRecorder()
    with PerformanceMonitor(dsn) as monitor:
        before = monitor.snapshot()
        yield recorder
        recorder.usage = [
            IndexUsage(d.index_name, d.table_name, d.category, d.size_bytes, d.scans)
            for d in PerformanceMonitor.delta(before, monitor.snapshot())
        ]


def attribute_usage(
    usage: Sequence[IndexUsage], records: Sequence[BenchmarkRecord]
) -> tuple[IndexUsage, ...]:
    """Index usage with ``used_by_benchmarks``: keys of benchmarks whose plan used the index."""
    users: dict[str, list[str]] = {}
    for record in records:
        for index in record.plan_indexes:
            users.setdefault(index, []).append(str(record.key))
    return tuple(
        replace(u, used_by_benchmarks=tuple(sorted(users.get(u.index, [])))) for u in usage
    )


def with_usage(meta: RunMetadata, usage: Sequence[IndexUsage]) -> RunMetadata:
    """The run's metadata with its index usage; warns about indexes no benchmark used."""
    warn_unused_indexes(usage)
    return replace(meta, index_usage=tuple(usage))


def unused_by_benchmarks(usage: Sequence[IndexUsage]) -> list[IndexUsage]:
    """Indexes no benchmarked query used (constraint-backing indexes excluded)."""
    return [u for u in usage if not u.used_by_benchmarks and u.category != "constraint"]


def unused_index_report(usage: Sequence[IndexUsage]) -> str | None:
    """A readable list of the indexes no benchmark used, largest first; None if all were."""
    unused = sorted(unused_by_benchmarks(usage), key=lambda u: u.size_bytes, reverse=True)
    if not unused:
        return None
    total = sum(u.size_bytes for u in unused)
    lines = [
        f"{len(unused)} of {len(usage)} indexes were used by no benchmarked query "
        f"({total / 1048576:.1f} MiB to maintain on every write):"
    ]
    lines += [
        f"  {u.index:<44} {u.table:<20} {u.category:<10} {u.size_bytes / 1048576:9.1f} MiB"
        for u in unused
    ]
    return "\n".join(lines)


def warn_unused_indexes(usage: Sequence[IndexUsage]) -> str | None:
    """Emit an UnusedIndexWarning listing the unused indexes (visible, never a failure)."""
    report = unused_index_report(usage)
    if report is not None:
        warnings.warn(UnusedIndexWarning(report), stacklevel=2)
    return report
