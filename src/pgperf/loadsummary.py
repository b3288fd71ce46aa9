"""A load scenario's result as the suite reports it: the bottleneck, and results-file extras."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pgperf.load import ScenarioResult
from pgperf.loadwatch import StatementDelta

#: Persona label of a scenario: its requests come from many users, not one persona.
LOAD_PERSONA = "population"
LOAD_VARIANT = "load"
# Thresholds of the bottleneck call; each is a share of the run (documented in the report).
LOCK_SHARE = 0.2
CPU_BUSY = 0.85
CLIENT_GIL = 0.7
WAIT_SHARE = 0.25
# Below this a wait is thread hand-off noise (a woken thread waits for the GIL), not a limit.
WAIT_FLOOR_MS = 2.0


@dataclass(frozen=True)
class Bottleneck:
    """Where the time went: locks, server CPU, client CPU, pool, users, machine, none.

    ``machine`` means the machine was saturated by processes outside the scenario (other
    runs on a shared runner): the latencies of that run say little about the database.
    """

    kind: str
    evidence: str


def _cpu(result: ScenarioResult) -> Bottleneck | None:
    view = result.server
    server = view.cores_used(view.server_cpu_s) or 0.0
    client = view.cores_used(view.client_cpu_s) or 0.0
    evidence = f"server {server:.2f} cores, client {client:.2f} cores of {view.cores}"
    if client >= CLIENT_GIL:
        # The GIL caps the Python client at about one core, whatever the machine has.
        return Bottleneck("client CPU", f"{evidence} (the client's GIL allows ~1)")
    if server + client >= CPU_BUSY * view.cores:
        kind = "server CPU" if server >= client else "client CPU"
        return Bottleneck(kind, evidence)
    return None


def _machine(result: ScenarioResult) -> Bottleneck | None:
    busy = result.server.machine_busy
    if busy is None or busy < CPU_BUSY:
        return None
    return Bottleneck("machine", f"machine {busy:.0%} busy, mostly with other processes")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def bottleneck(result: ScenarioResult) -> Bottleneck:
    """The first limit the run hit: locks, CPU, a busy machine, the pool, or the users."""
    view = result.server
    if view.lock_share >= LOCK_SHARE:
        return Bottleneck("locks", f"{view.lock_share:.0%} of busy backend samples on a lock")
    cpu = _cpu(result)
    if cpu is not None:
        return cpu
    latency = _mean(result.latencies_ms)
    pool_wait = _mean([o.pool_wait_ms for o in result.served])
    queued = _mean([o.queue_ms for o in result.served])
    floor = max(WAIT_FLOOR_MS, WAIT_SHARE * latency)
    if not latency or max(pool_wait, queued) < floor:
        return Bottleneck("none", "no resource saturated at this rate")
    # Requests wait; when other processes hold the cores, that is why, not pool or users.
    busy = _machine(result)
    if busy is not None:
        return busy
    if pool_wait >= floor:
        return Bottleneck("pool", f"mean pool wait {pool_wait:.1f} ms of {latency:.1f} ms")
    return Bottleneck("users", f"arrivals queued {queued:.1f} ms for a free simulated user")


def request_statements(result: ScenarioResult) -> list[StatementDelta]:
    """The simulated users' statements (background jobs left out)."""
    return [s for s in result.server.statements or () if not s.background]


def _work(result: ScenarioResult) -> dict[str, Any]:
    statements = request_statements(result)
    if not statements or not result.completed:
        return {}
    return {
        "buffers": round(sum(s.buffers for s in statements) / result.completed),
        "server_ms": round(sum(s.total_exec_ms for s in statements) / result.completed, 4),
    }


def _server_view(result: ScenarioResult) -> dict[str, Any]:
    view = result.server
    return {
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


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _client_view(result: ScenarioResult) -> dict[str, Any]:
    served = result.served
    return {
        "offered_rps": round(result.offered_rate, 2),
        "throughput_rps": round(result.throughput, 2),
        "requests": result.timings.offered,
        "completed": result.completed,
        "errors": len(result.errors),
        "error_samples": sorted(set(result.errors))[:5],
        "dropped": sum(1 for o in result.timings.outcomes if o.dropped),
        "sustained": result.sustained,
        "pool_wait_ms": round(result.pool_wait_ms, 3),
        "pool_wait_p95_ms": result.quantile_ms(95, [o.pool_wait_ms for o in served]),
        "queue_p95_ms": result.quantile_ms(95, [o.queue_ms for o in served]),
        "pool": dict(result.pool_stats),
    }


def _shape(result: ScenarioResult) -> dict[str, Any]:
    shape = result.shape
    return {
        "rate_per_s": shape.rate_per_s,
        "duration_s": shape.duration_s,
        "max_requests": shape.max_requests,
        "users": shape.users,
        "pool_min": shape.pool_min,
        "pool_max": shape.pool_max,
    }


def extra_info(
    result: ScenarioResult, *, feature: str, budget_ms: float, work: bool = True
) -> dict[str, Any]:
    """The results-file extras of one scenario (docs/ARCHITECTURE.md, variant ``load``)."""
    found = bottleneck(result)
    info: dict[str, Any] = {
        "key": f"{feature}/{result.name}|{LOAD_PERSONA}|{LOAD_VARIANT}",
        "feature": feature,
        "query": result.name,
        "persona": LOAD_PERSONA,
        "variant": LOAD_VARIANT,
        "budget_ms": budget_ms,
        "p50_ms": result.quantile_ms(50),
        "p95_ms": result.quantile_ms(95),
        "p99_ms": result.quantile_ms(99),
        "samples_ms": [round(v, 3) for v in result.latencies_ms],
        "shape": _shape(result),
        "bottleneck": found.kind,
        "bottleneck_evidence": found.evidence,
        "background": [
            {
                "label": b.label,
                "runs": len(b.durations_ms),
                "mean_ms": round(_mean(list(b.durations_ms)), 1),
                "errors": list(b.errors),
            }
            for b in result.background
        ],
        **_client_view(result),
        **_server_view(result),
    }
    # Work per request is comparable run to run only when the data the requests read stays
    # put; a scenario whose background job rewrites what they read opts out.
    return {**info, **_work(result)} if work else info


def summary(result: ScenarioResult, *, budget_ms: float) -> str:
    """One line for the terminal: rate, throughput, percentiles against the budget, limit."""
    found = bottleneck(result)
    return (
        f"{result.name}: offered {result.offered_rate:.1f}/s, achieved "
        f"{result.throughput:.1f}/s, p50 {result.quantile_ms(50):.1f} ms, p95 "
        f"{result.quantile_ms(95):.1f} ms (budget {budget_ms:g}), p99 "
        f"{result.quantile_ms(99):.1f} ms, errors {len(result.errors)}, pool wait "
        f"{result.pool_wait_ms:.2f} ms, lock waits {result.server.lock_wait_s:.2f} s, "
        f"{cpu_text(result)}; limit: {found.kind} ({found.evidence})"
    )


def cpu_text(result: ScenarioResult) -> str:
    """CPU of the scenario's backends and client, and of the whole machine."""
    view = result.server
    server = view.cores_used(view.server_cpu_s)
    client = view.cores_used(view.client_cpu_s) or 0.0
    busy = "?" if view.machine_busy is None else f"{view.machine_busy:.0%}"
    served = "?" if server is None else f"{server:.2f}"
    return f"cpu: server {served} + client {client:.2f} cores, machine {busy} busy"


def problems(result: ScenarioResult, *, budget_ms: float) -> list[str]:
    """Why a scenario run fails: errors, a server that fell behind, p95 over budget."""
    found: list[str] = []
    if result.errors:
        samples = "; ".join(sorted(set(result.errors))[:3])
        found.append(f"{result.name}: {len(result.errors)} failed request(s): {samples}")
    if not result.errors and not result.sustained:
        found.append(
            f"{result.name}: fell behind: {result.throughput:.1f}/s achieved of "
            f"{result.offered_rate:.1f}/s offered"
        )
    p95 = result.quantile_ms(95)
    if p95 > budget_ms:
        limit = bottleneck(result)
        found.append(
            f"{result.name} over budget under load: p95 {p95:.1f} ms > {budget_ms:g} ms "
            f"(limit: {limit.kind}: {limit.evidence})"
        )
    found += [
        f"{result.name}: background {b.label} failed: {'; '.join(b.errors[:2])}"
        for b in result.background
        if b.errors
    ]
    if result.server.statements is None:
        found.append(f"{result.name}: no server-side view: {result.server.statements_error}")
    return found
