"""A results file written outside pytest (a same-run A/B arm): pytest-benchmark's JSON shape.

pytest writes its results through pytest-benchmark; the A/B command measures without
pytest, so it writes the same envelope itself (``machine_info``, ``commit_info``,
``benchmarks`` with pytest-benchmark's own ``stats``, ``datetime``, ``version``) around the
same records, and every tool that reads one reads the other.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from typing import Any

from pgperf.verdict.record import BenchmarkRecord, RunMetadata


def _stats(samples_ms: Sequence[float]) -> dict[str, Any]:
    from pytest_benchmark.stats import Stats

    stats = Stats()
    for sample in samples_ms:
        stats.update(sample / 1000)  # pytest-benchmark counts seconds
    return {**stats.as_dict(), "data": [s / 1000 for s in samples_ms]} if samples_ms else {}


def _benchmark(record: BenchmarkRecord) -> dict[str, Any]:
    return {
        "group": record.feature,
        "name": record.name,
        "fullname": record.name,
        "params": None,
        "param": None,
        "extra_info": record.to_extra_info(),
        "options": {"disable_gc": False, "timer": "perf_counter", "warmup": True},
        "stats": _stats(record.samples_ms),
    }


def results_document(meta: RunMetadata, records: Sequence[BenchmarkRecord]) -> dict[str, Any]:
    """The whole results file of ``records`` measured in the run ``meta`` describes."""
    from pytest_benchmark import __version__

    commit = meta.git_commit or ""
    return {
        "machine_info": {
            "node": platform.node(),
            "processor": meta.machine.cpu,
            "machine": platform.machine(),
            "python_version": meta.machine.python,
            "system": platform.system(),
            "release": platform.release(),
        },
        "commit_info": {"id": commit.removesuffix("+dirty"), "dirty": commit.endswith("+dirty")},
        "benchmarks": [_benchmark(r) for r in records],
        "datetime": meta.created_at,
        "version": __version__,
        "pgperf": meta.to_json(),
    }


def render_results(meta: RunMetadata, records: Sequence[BenchmarkRecord]) -> str:
    """The results file as JSON text."""
    return json.dumps(results_document(meta, records), indent=2) + "\n"
