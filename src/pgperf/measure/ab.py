"""Same-run A/B: the base's and the head's benchmarks on one server, in interleaved rounds.

Each arm is a platform checkout (sql/, fixtures/, budgets.toml) with its own clone of its
own bench template; the engine measuring both is this one. For every benchmark both arms
have, the two are armed side by side, warmed up alike, then timed round by round in random
order (base then head, or head then base), with both backends on one core and the client on
another, so drift and other load fall on both arms of each pair. Benchmarks only the head
has are measured alone (new); the base's own are left out (missing).
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from pgperf.config import Config
from pgperf.data import database
from pgperf.data.seeding import ensure_seeded_template
from pgperf.data.templates import Template
from pgperf.host import pressure_over
from pgperf.indexes.template import ensure_bench_template
from pgperf.measure import explain
from pgperf.measure.catalog import catalog_of
from pgperf.measure.pinning import (
    Placement,
    available_cores,
    client_pinned,
    pin_backends,
    plan_placement,
)
from pgperf.measure.plan import BenchSpec, all_specs
from pgperf.measure.runner import Armed, BenchSession, arm, record_of, run_length, warm_up
from pgperf.progress import QuietReporter, Reporter
from pgperf.provision import ServerHandle
from pgperf.verdict.paired import paired_change
from pgperf.verdict.record import BenchmarkKey, BenchmarkRecord

#: A benchmark whose interval is this narrow (half-width) needs no more paired rounds.
PRECISION = 0.02
#: A noisy benchmark gets more blocks of rounds: at most this many in all, and no new block
#: once its paired rounds have taken EXTENSION_S (a slow report's block takes seconds).
EXTENSION = 8
EXTENSION_S = 20.0


@dataclass(frozen=True)
class ArmSetup:
    """One arm: its configuration (project root = its platform checkout) and its templates."""

    name: str  # "base" or "head"
    config: Config
    seeded: Template
    bench: Template


@dataclass
class AbMeasurement:
    """Both arms' records, and how the pairs were taken."""

    base: list[BenchmarkRecord] = field(default_factory=list)
    head: list[BenchmarkRecord] = field(default_factory=list)
    placement: Placement = field(default_factory=lambda: Placement(None, None, "not run"))


def prepare_arms(
    server: ServerHandle, base: Config, head: Config, *, reporter: Reporter
) -> tuple[ArmSetup, ArmSetup]:
    """Templates for both arms: one seeded template when schema and fixtures match.

    Template reuse by content hash keeps an unchanged arm free; each arm's bench template
    protects the other's from pruning (a profile keeps one otherwise).
    """
    seeded_base = ensure_seeded_template(server, base, reporter=reporter)
    seeded_head = ensure_seeded_template(server, head, reporter=reporter)
    bench_base = ensure_bench_template(server, base, seeded_base, reporter=reporter)
    bench_head = ensure_bench_template(
        server, head, seeded_head, reporter=reporter, keep={bench_base.name}
    )
    return (
        ArmSetup("base", base, seeded_base, bench_base),
        ArmSetup("head", head, seeded_head, bench_head),
    )


def _timed_pairs(a: Armed, b: Armed, rounds: int, rng: random.Random) -> tuple[list[float], ...]:
    base_s: list[float] = []
    head_s: list[float] = []
    for _ in range(rounds):
        if rng.random() < 0.5:
            base_s.append(explain.timed(a.one_round))
            head_s.append(explain.timed(b.one_round))
        else:
            head_s.append(explain.timed(b.one_round))
            base_s.append(explain.timed(a.one_round))
    return base_s, head_s


def _rounds(session: BenchSession, a: Armed, b: Armed) -> int:
    """Warm both arms up in alternation, so neither starts the timed rounds colder."""
    length = session.length
    warm: list[float] = []
    for _ in range(length.warmup_rounds):
        warm.append(max(explain.timed(a.one_round), explain.timed(b.one_round)))
        if warm[-1] >= length.slow_round_s:
            break  # one round of a slow report has warmed everything it reads
    for armed in (a, b):
        for timings in armed.per_query_s.values():
            timings.clear()
    return length.rounds_for(statistics.mean(warm) if warm else 0.0)


def _paired_rounds(
    a: Armed, b: Armed, rounds: int, rng: random.Random, *, key: str
) -> tuple[list[float], ...]:
    """Blocks of paired rounds until the interval is precise enough, or the limits above."""
    base_s, head_s = _timed_pairs(a, b, rounds, rng)
    for _ in range(EXTENSION - 1):
        change = paired_change(_ms(base_s), _ms(head_s), key=key)
        if change is not None and change.half_width <= PRECISION:
            break
        if sum(base_s) + sum(head_s) >= EXTENSION_S:
            break
        more_base, more_head = _timed_pairs(a, b, rounds, rng)
        base_s += more_base
        head_s += more_head
    return base_s, head_s


def _ms(seconds: Sequence[float]) -> list[float]:
    return [s * 1000 for s in seconds]


def measure_pair(
    base: BenchSession,
    head: BenchSession,
    specs: tuple[BenchSpec, BenchSpec],
    *,
    placement: Placement,
    rng: random.Random,
) -> tuple[BenchmarkRecord, BenchmarkRecord, Placement]:
    """One benchmark in both arms, interleaved; the records and where the backends ran."""
    with base.connection() as conn_a, head.connection() as conn_b:
        where = pin_backends([conn_a, conn_b], placement)
        a, b = arm(conn_a, base, specs[0]), arm(conn_b, head, specs[1])
        rounds = _rounds(base, a, b)
        with pressure_over() as pressure:
            base_s, head_s = _paired_rounds(a, b, rounds, rng, key=str(specs[1].key))
        name = f"ab::{specs[1].key}"
        share = pressure.share
        records = (
            record_of(conn_a, a, base_s, a.evidence(), name=name, cpu_pressure=share),
            record_of(conn_b, b, head_s, b.evidence(), name=name, cpu_pressure=share),
        )
    return records[0], records[1], where


def measure_alone(head: BenchSession, spec: BenchSpec) -> BenchmarkRecord:
    """A benchmark only the head has (new): timed alone, judged on plan and budget."""
    with head.connection() as conn:
        armed = arm(conn, head, spec)
        rounds = head.length.rounds_for(warm_up(head.length, armed.one_round))
        for timings in armed.per_query_s.values():
            timings.clear()
        with pressure_over() as pressure:
            samples = [explain.timed(armed.one_round) for _ in range(rounds)]
        return record_of(
            conn,
            armed,
            samples,
            armed.evidence(),
            name=f"ab::{spec.key}",
            cpu_pressure=pressure.share,
        )


def _selected(specs: Sequence[BenchSpec], select: Sequence[str]) -> dict[BenchmarkKey, BenchSpec]:
    from fnmatch import fnmatchcase

    chosen = {s.key: s for s in specs}
    if not select:
        return chosen
    return {k: s for k, s in chosen.items() if any(fnmatchcase(str(k), p) for p in select)}


@contextmanager
def _sessions(server: ServerHandle, arms: Sequence[ArmSetup]) -> Iterator[list[BenchSession]]:
    with ExitStack() as stack:
        sessions = []
        for setup in arms:
            dsn = stack.enter_context(
                database.scratch_database(
                    server, template=setup.bench.name, label=f"ab_{setup.name}"
                )
            )
            layout = setup.config.layout
            population = layout.population_file if layout.population_file.exists() else None
            length = run_length(setup.config.profile)
            sessions.append(
                BenchSession(
                    dsn, catalog_of(layout), length, population=population, seed=setup.config.seed
                )
            )
        yield sessions


def run_ab(
    server: ServerHandle,
    arms: tuple[ArmSetup, ArmSetup],
    *,
    select: Sequence[str] = (),
    seed: int = 42,
    reporter: Reporter | None = None,
) -> AbMeasurement:
    """Measure every selected benchmark: the common ones paired, the head's new ones alone."""
    out = reporter or QuietReporter()
    rng = random.Random(seed)
    measured = AbMeasurement()
    with _sessions(server, arms) as (base, head):
        base_specs = _selected(all_specs(base.catalog), select)
        head_specs = _selected(all_specs(head.catalog), select)
        placement = probe_placement(head, plan_placement(available_cores()))
        measured.placement = placement
        total = len(head_specs)
        with client_pinned(placement), out.task("A/B", total=total, unit="benchmarks") as task:
            for key, spec in head_specs.items():
                task.working_on(str(key))
                if key in base_specs:
                    pair = (base_specs[key], spec)
                    a, b, _ = measure_pair(base, head, pair, placement=placement, rng=rng)
                    measured.base.append(a)
                    measured.head.append(b)
                else:
                    measured.head.append(measure_alone(head, spec))
                task.advance()
    return measured


def probe_placement(session: BenchSession, placement: Placement) -> Placement:
    """Whether this server's backends can be pinned: try it on one connection."""
    with session.connection() as conn:
        return pin_backends([conn], placement)
