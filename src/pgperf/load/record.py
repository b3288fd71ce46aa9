"""A load scenario's run as a benchmark record (variant ``load``), judged like any other.

The facts the verdict's load rule needs (failed requests, whether the server kept up,
failed background jobs, a missing server-side view) are typed fields of the record; the
rest of what the run saw (pool, waits, statements, CPU, bottleneck) travels in its
``details``.
"""

from __future__ import annotations

import statistics
from typing import Any

from pgperf.load.diagnose import bottleneck
from pgperf.load.driver import ScenarioResult
from pgperf.load.watch import StatementDelta
from pgperf.verdict.record import LOAD, BenchmarkKey, BenchmarkRecord

#: Persona label of a scenario: its requests come from many users, not one persona.
LOAD_PERSONA = "population"


def request_statements(result: ScenarioResult) -> list[StatementDelta]:
    """The simulated users' statements (background jobs left out)."""
    return [s for s in result.server.statements or () if not s.background]


def _work(result: ScenarioResult) -> tuple[int | None, float | None]:
    """Buffers and server time per request, from the pg_stat_statements delta."""
    statements = request_statements(result)
    if not statements or not result.completed:
        return None, None
    buffers = round(sum(s.buffers for s in statements) / result.completed)
    return buffers, round(sum(s.total_exec_ms for s in statements) / result.completed, 4)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _details(result: ScenarioResult) -> dict[str, Any]:
    view, served, shape = result.server, result.served, result.shape
    return {
        "shape": {
            "rate_per_s": shape.rate_per_s,
            "duration_s": shape.duration_s,
            "max_requests": shape.max_requests,
            "users": shape.users,
            "pool_min": shape.pool_min,
            "pool_max": shape.pool_max,
        },
        "background": [
            {
                "label": b.label,
                "runs": len(b.durations_ms),
                "mean_ms": round(statistics.fmean(b.durations_ms), 1) if b.durations_ms else 0.0,
                "errors": list(b.errors),
            }
            for b in result.background
        ],
        "requests": result.timings.offered,
        "completed": result.completed,
        "dropped": sum(1 for o in result.timings.outcomes if o.dropped),
        "pool_wait_ms": round(result.pool_wait_ms, 3),
        "pool_wait_p95_ms": result.quantile_ms(95, [o.pool_wait_ms for o in served]),
        "queue_p95_ms": result.quantile_ms(95, [o.queue_ms for o in served]),
        "pool": dict(result.pool_stats),
        "statements": [s.as_dict() for s in view.statements or ()],
        "statements_error": view.statements_error,
        "lock_wait_s": round(view.lock_wait_s, 3),
        "lock_waiters_max": view.lock_waiters_max,
        "deadlocks": view.deadlocks,
        "waits": dict(view.waits),
        "server_cpu_cores": _round(view.cores_used(view.server_cpu_s)),
        "client_cpu_cores": _round(view.cores_used(view.client_cpu_s)),
        "machine_busy": _round(view.machine_busy),
    }


def _problems(result: ScenarioResult) -> tuple[str, ...]:
    problems = [
        f"background {b.label} failed: {'; '.join(b.errors[:2])}"
        for b in result.background
        if b.errors
    ]
    problems += [
        f"background {b.label} never completed a run"
        for b in result.background
        if not b.durations_ms
    ]
    if result.server.statements is None:
        problems.append(f"no server-side view: {result.server.statements_error}")
    return tuple(problems)


def load_record(
    result: ScenarioResult, *, feature: str, budget_ms: float, name: str, work: bool = True
) -> BenchmarkRecord:
    """The record of one scenario run (work per request only where the data stays put)."""
    latencies = result.latencies_ms
    buffers, server_ms = _work(result) if work else (None, None)
    found = bottleneck(result)
    return BenchmarkRecord(
        key=BenchmarkKey(feature, result.name, LOAD_PERSONA, LOAD),
        name=name,
        samples_ms=tuple(round(v, 3) for v in latencies),
        median_ms=statistics.median(latencies) if latencies else 0.0,
        p95_ms=result.quantile_ms(95),
        budget_ms=budget_ms,
        p50_ms=result.quantile_ms(50),
        p99_ms=result.quantile_ms(99),
        buffers=buffers,
        server_ms=server_ms,
        errors=len(result.errors),
        error_samples=tuple(sorted(set(result.errors))[:5]),
        sustained=result.sustained,
        offered_rps=round(result.offered_rate, 2),
        throughput_rps=round(result.throughput, 2),
        load_problems=_problems(result),
        bottleneck=f"{found.kind}: {found.evidence}",
        details=_details(result),
    )
