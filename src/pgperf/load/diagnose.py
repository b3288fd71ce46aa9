"""Where a load scenario's time went: the bottleneck, and its one-line terminal summary."""

from __future__ import annotations

from dataclasses import dataclass

from pgperf.load.driver import ScenarioResult

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
