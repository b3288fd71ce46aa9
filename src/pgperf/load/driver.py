"""Load scenarios: open-model arrivals against the clock, served through a psycopg_pool pool.

Arrivals follow a Poisson process at the target rate and are scheduled before the run
starts; worker threads (the simulated users) take them from a queue. Latency is measured
from the *scheduled* arrival time, so a slow server shows as latency (queueing included)
rather than as politely reduced load (no coordinated omission). Every run is bounded by
duration and by request count, and stops by itself.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field

from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from pgperf.data.database import Connection
from pgperf.errors import PgperfError, UnsafeTarget
from pgperf.load.background import Background, BackgroundRuns, running
from pgperf.load.tags import app_name, tag
from pgperf.load.watch import ServerView, ServerWatch
from pgperf.measure.params import placeholders
from pgperf.provision.ownership import DATABASE_PREFIX
from pgperf.stats import percentile

_LOOPBACK = frozenset({"", "localhost", "127.0.0.1", "::1"})


class LoadError(PgperfError):
    """A load scenario is misconfigured or could not run."""


@dataclass(frozen=True)
class Call:
    """One statement of a request and its parameters (``%(name)s`` placeholders)."""

    label: str
    sql: str
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """The placeholder names the statement uses, in order of first use."""
        return tuple(placeholders(self.sql))

    @property
    def tagged_sql(self) -> str:
        """The statement behind a ``/* label */`` comment, which pg_stat_statements keeps."""
        return tag(self.label, self.sql)


@dataclass(frozen=True)
class Request:
    """What one simulated user sends for one arrival: statements run on one connection.

    Columns of the first row a statement returns are available to the later statements'
    placeholders (a write path that inserts, then updates what it inserted).
    """

    calls: tuple[Call, ...]
    transaction: bool = False


RequestFactory = Callable[[random.Random], Request]


@dataclass(frozen=True)
class Shape:
    """How hard and how long: target arrival rate, bounds, users and the pool's size."""

    rate_per_s: float
    duration_s: float
    max_requests: int
    users: int
    pool_min: int = 20
    pool_max: int = 50
    drain_s: float = 10.0
    seed: int = 42

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.duration_s <= 0 or self.max_requests <= 0:
            raise LoadError("a scenario needs a positive rate, duration and request count")
        if self.users <= 0 or not 0 < self.pool_min <= self.pool_max:
            raise LoadError("a scenario needs users > 0 and 0 < pool_min <= pool_max")


def arrival_offsets(shape: Shape) -> list[float]:
    """Poisson arrival times (seconds from the start) within the duration and request bounds."""
    rng = random.Random(shape.seed)
    offsets: list[float] = []
    t = rng.expovariate(shape.rate_per_s)
    while t < shape.duration_s and len(offsets) < shape.max_requests:
        offsets.append(t)
        t += rng.expovariate(shape.rate_per_s)
    return offsets


def refuse_unsafe_target(dsn: str, *, allow_remote: bool = False) -> None:
    """Refuse to send load anywhere but one of the suite's own databases on this machine."""
    params = conninfo_to_dict(dsn)
    dbname = str(params.get("dbname", ""))
    if not dbname.startswith(DATABASE_PREFIX):
        raise UnsafeTarget(f"refusing to send load to {dbname!r}: not a database pgperf made")
    hosts = str(params.get("host", "")).split(",")
    remote = [h for h in hosts if h not in _LOOPBACK and not h.startswith("/")]
    if remote and not allow_remote:
        raise UnsafeTarget(
            f"refusing to send load to {', '.join(remote)}: the suite loads only its own "
            "server on this machine",
            hint="use `pgperf pgbench-export` to drive a remote server with pgbench",
        )


@dataclass(frozen=True)
class Arrival:
    """Timestamps (monotonic seconds) of one arrival, and its error if any."""

    scheduled: float
    dispatched: float
    connected: float
    finished: float
    error: str | None = None
    dropped: bool = False

    @property
    def latency_ms(self) -> float:
        """From the scheduled arrival to the response: what the user waited."""
        return (self.finished - self.scheduled) * 1000

    @property
    def pool_wait_ms(self) -> float:
        """Time spent waiting for a pooled connection."""
        return (self.connected - self.dispatched) * 1000

    @property
    def queue_ms(self) -> float:
        """Time the arrival waited for a free simulated user (all were busy)."""
        return (self.dispatched - self.scheduled) * 1000


def _bind(call: Call, carried: Mapping[str, object]) -> dict[str, object]:
    values = {**call.params, **carried}
    missing = [n for n in call.names if n not in values]
    if missing:
        raise LoadError(f"{call.label}: no value for placeholder(s) {missing}")
    return {n: values[n] for n in call.names}


def execute_request(conn: Connection, request: Request) -> None:
    """Run one request's statements on ``conn`` (in one transaction if the request says so)."""
    carried: dict[str, object] = {}
    block: AbstractContextManager[object] = (
        conn.transaction() if request.transaction else nullcontext()
    )
    with block:
        for call in request.calls:
            with conn.cursor(row_factory=dict_row) as cur:
                # Always a mapping, even empty: psycopg then reads '%%' as a literal '%'.
                cur.execute(call.tagged_sql, _bind(call, carried))
                rows = cur.fetchall() if cur.description else []
            if rows:
                carried.update(rows[0])


def _describe(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:300]


@dataclass
class _Run:
    pool: ConnectionPool[Connection]
    make_request: RequestFactory
    arrivals: queue.Queue[tuple[int, float] | None]
    deadline: float
    seed: int
    outcomes: list[Arrival] = field(default_factory=list)


def _serve(run: _Run, index: int, scheduled: float) -> Arrival:
    dispatched = time.monotonic()
    remaining = run.deadline - dispatched
    if remaining <= 0:
        return Arrival(scheduled, dispatched, dispatched, dispatched, "not served", dropped=True)
    connected = dispatched
    try:
        with run.pool.connection(timeout=remaining) as conn:
            connected = time.monotonic()
            # Seeded by the arrival, not the thread: the same run sends the same requests.
            execute_request(conn, run.make_request(random.Random(run.seed * 1_000_003 + index)))
    except Exception as exc:  # every failure is counted, never raised mid-run
        return Arrival(scheduled, dispatched, connected, time.monotonic(), _describe(exc))
    return Arrival(scheduled, dispatched, connected, time.monotonic())


def _user(run: _Run) -> None:
    while (arrival := run.arrivals.get()) is not None:
        run.outcomes.append(_serve(run, *arrival))  # list.append is atomic


def _dispatch(run: _Run, offsets: Sequence[float]) -> float:
    """Release each arrival at its scheduled time (against the clock); return the start."""
    start = time.monotonic()
    for index, offset in enumerate(offsets):
        due = start + offset
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # pacing to the schedule, not waiting for readiness
        run.arrivals.put((index, due))  # a late release still carries the scheduled time
    return start


@contextmanager
def open_pool(dsn: str, shape: Shape, name: str) -> Iterator[ConnectionPool[Connection]]:
    """The scenario's client pool, its minimum connections open before the clock starts."""
    pool: ConnectionPool[Connection] = ConnectionPool(
        dsn,
        min_size=shape.pool_min,
        max_size=shape.pool_max,
        kwargs={
            "autocommit": True,
            "application_name": app_name(name),
            # Bounds any single statement, so a run always ends near its deadline.
            "options": f"-c statement_timeout={int((shape.duration_s + shape.drain_s) * 1000)}",
        },
        open=False,
        name=name,
    )
    pool.open(wait=True, timeout=30)
    try:
        yield pool
    finally:
        pool.close()


@dataclass(frozen=True)
class Timings:
    """What the clients saw: outcomes of every arrival and the run's wall-clock span."""

    outcomes: tuple[Arrival, ...]
    offered: int
    started: float
    ended: float
    arrival_window_s: float


def drive(pool: ConnectionPool[Connection], make_request: RequestFactory, shape: Shape) -> Timings:
    """Send the scenario's arrivals through ``pool``; return when all are served or dropped."""
    offsets = arrival_offsets(shape)
    window = offsets[-1] if offsets else 0.0
    run = _Run(pool, make_request, queue.Queue(), deadline=float("inf"), seed=shape.seed)
    users = [threading.Thread(target=_user, args=(run,), daemon=True) for _ in range(shape.users)]
    for thread in users:
        thread.start()
    run.deadline = time.monotonic() + shape.duration_s + shape.drain_s
    start = _dispatch(run, offsets)
    for _ in users:
        run.arrivals.put(None)
    for thread in users:
        thread.join(timeout=max(0.0, run.deadline - time.monotonic()) + 5)
    ended = time.monotonic()
    return Timings(tuple(run.outcomes), len(offsets), start, ended, window)


@dataclass(frozen=True)
class ScenarioResult:
    """Everything one scenario run measured, client side and server side."""

    name: str
    shape: Shape
    timings: Timings
    pool_stats: Mapping[str, int]
    server: ServerView
    background: tuple[BackgroundRuns, ...] = ()

    @property
    def served(self) -> tuple[Arrival, ...]:
        """Arrivals that got a response (successful or not)."""
        return tuple(o for o in self.timings.outcomes if not o.dropped)

    @property
    def latencies_ms(self) -> list[float]:
        """Latency of each successful request, from its scheduled arrival."""
        return [o.latency_ms for o in self.served if o.error is None]

    @property
    def errors(self) -> list[str]:
        """Error of every failed or dropped arrival."""
        return [o.error for o in self.timings.outcomes if o.error is not None]

    @property
    def completed(self) -> int:
        """Requests that succeeded."""
        return len(self.latencies_ms)

    @property
    def wall_s(self) -> float:
        """From the first scheduled arrival to the last response."""
        last = max((o.finished for o in self.served), default=self.timings.started)
        return max(last - self.timings.started, 1e-9)

    @property
    def throughput(self) -> float:
        """Successful requests per second achieved."""
        return self.completed / self.wall_s

    @property
    def offered_rate(self) -> float:
        """Arrivals per second actually scheduled (the target, up to Poisson noise)."""
        window = self.timings.arrival_window_s
        return self.timings.offered / window if window > 0 else 0.0

    def quantile_ms(self, q: float, values: Sequence[float] | None = None) -> float:
        """A percentile of ``values`` (default: the latencies); 0 when there is none."""
        data = self.latencies_ms if values is None else values
        return round(percentile(data, q), 3) if data else 0.0

    @property
    def pool_wait_ms(self) -> float:
        """Mean wait for a pooled connection, per psycopg_pool's own counters."""
        requests = self.pool_stats.get("requests_num", 0)
        return self.pool_stats.get("requests_wait_ms", 0) / requests if requests else 0.0

    @property
    def sustained(self) -> bool:
        """Whether the server kept up: requests sent, no errors, >= 90% of the offered rate."""
        sent = self.timings.offered > 0
        return sent and not self.errors and self.throughput >= 0.9 * self.offered_rate


def run_scenario(
    dsn: str,
    *,
    name: str,
    make_request: RequestFactory,
    shape: Shape,
    background: Sequence[Background] = (),
    allow_remote: bool = False,
) -> ScenarioResult:
    """Run one bounded load scenario against ``dsn`` and observe it from both sides."""
    refuse_unsafe_target(dsn, allow_remote=allow_remote)
    with (
        open_pool(dsn, shape, name) as pool,
        ServerWatch(dsn, app=app_name(name)) as watch,
        running(dsn, background, app=app_name(name)) as bg,
    ):
        pool.pop_stats()  # opening the pool is not part of the scenario
        timings = drive(pool, make_request, shape)
        stats = dict(pool.pop_stats())
        runs = bg.stop()
        watch.stop()
    return ScenarioResult(name, shape, timings, stats, watch.view(), runs)
