"""Run catalog benchmarks: arm one on a connection, time its rounds, gather its evidence.

A benchmark is *armed* on a connection first (parameters resolved, plan mode set), which
gives one callable per round and one that gathers the evidence (EXPLAIN, catalog facts)
afterwards: timed rounds never include connecting, resolving parameters or EXPLAIN. The
pytest suite times the rounds through pytest-benchmark; the same-run A/B interleaves the
rounds of two armed benchmarks. Either way the result is one ``BenchmarkRecord``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from pgperf.data.database import Connection, connect
from pgperf.host import pressure_over
from pgperf.indexes.monitor import PerformanceMonitor
from pgperf.measure import census, digest, explain
from pgperf.measure.catalog import USER_PERSONAS, Catalog, Feature, Query
from pgperf.measure.explain import PlanFacts, PlanMode
from pgperf.measure.length import RUN_LENGTHS, RunLength, run_length, warm_up
from pgperf.measure.params import Params, data_now, resolve_params
from pgperf.measure.plan import BenchSpec
from pgperf.stats import percentile
from pgperf.verdict.findings import BenchmarkVerdict, Thresholds
from pgperf.verdict.plans import PlanShape
from pgperf.verdict.record import (
    BenchmarkRecord,
    ResultDigest,
    ResultsFile,
    RunMetadata,
)
from pgperf.verdict.rules import judge
from pgperf.verdict.verdict import latency_not_gating

__all__ = ["RUN_LENGTHS", "Armed", "BenchSession", "Judging", "RunLength", "arm", "record_of"]
__all__ += ["run_benchmark", "run_length", "warm_up"]


class Benchmark(Protocol):
    """The part of pytest-benchmark's ``benchmark`` fixture the suite uses."""

    group: str | None
    extra_info: dict[str, Any]

    def pedantic(
        self, target: Callable[[], object], *, rounds: int, warmup_rounds: int, iterations: int
    ) -> object:
        """Run ``target`` for ``rounds`` timed rounds."""
        ...


@dataclass(frozen=True)
class Judging:
    """What the in-process verdict compares with: thresholds, and a baseline if one is given."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    baseline: ResultsFile | None = None
    meta: RunMetadata | None = None  # this run, to tell whether latency may gate

    def judge(self, record: BenchmarkRecord) -> BenchmarkVerdict:
        """The gate's verdict on one benchmark, as ``pgperf compare`` would give it."""
        if self.baseline is None:
            return judge(record, None, self.thresholds)
        before = self.baseline.by_key().get(record.key)
        not_gating = latency_not_gating(self.baseline.meta, self.meta) if self.meta else None
        return judge(record, before, self.thresholds, not_gating=not_gating, is_new=before is None)


@dataclass(frozen=True)
class BenchSession:
    """What every benchmark of a run shares: the database, the catalog, the run length."""

    dsn: str
    catalog: Catalog
    length: RunLength
    judging: Judging = field(default_factory=Judging)
    # What the run measured so far (index usage is attributed to them at the end).
    records: list[BenchmarkRecord] = field(default_factory=list)
    # The users the census plans each user-scoped query for (None: no census).
    population: Path | None = None
    seed: int = 42
    _sample: list[int] = field(default_factory=list)

    def user_sample(self, conn: Connection) -> list[int]:
        """The census's users: drawn from the population once per run, by weight and seed."""
        if not self._sample and self.population is not None:
            ids, weights = census.read_population(conn, self.population)
            self._sample.extend(census.draw(ids, weights, k=census.SAMPLE_USERS, seed=self.seed))
        return self._sample

    @property
    def pickers(self) -> dict[str, str]:
        """Picker name -> its SQL."""
        return {name: path.read_text() for name, path in self.catalog.pickers.items()}

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A fresh session for one benchmark (its prepared statements die with it)."""
        with connect(self.dsn) as conn:
            yield conn
            # PostgreSQL 15 publishes a session's index statistics lazily: publish them now,
            # so the run's index-usage delta counts this benchmark.
            PerformanceMonitor.flush_session_stats(conn)


@dataclass
class Armed:
    """A benchmark ready to time on one connection: a round, and its evidence afterwards."""

    spec: BenchSpec
    budget_ms: float
    one_round: Callable[[], object]
    evidence: Callable[[], PlanFacts]
    statements: tuple[Query, ...]
    # statement -> seconds of each round (a page names its costliest query)
    per_query_s: dict[str, list[float]] = field(default_factory=dict)
    # What a read returns (digested once, outside the rounds); None for a write path.
    results: Callable[[], dict[str, ResultDigest]] | None = None
    # The plan shapes over the census's users (one benchmark per user-scoped query).
    census: Callable[[], tuple[PlanShape, ...]] | None = None


def _params(
    conn: Connection, session: BenchSession, queries: Sequence[Query], persona: str
) -> list[Params]:
    # A global query on a user's page runs with the same values whoever looks at it.
    return [
        resolve_params(
            conn,
            q.params,
            persona=persona if persona in q.personas else q.personas[0],
            pickers=session.pickers,
        )
        for q in queries
    ]


def arm(conn: Connection, session: BenchSession, spec: BenchSpec) -> Armed:
    """Resolve the benchmark's parameters on ``conn`` and set its plan mode."""
    feature = session.catalog.feature(spec.feature)
    if spec.kind == "page":
        return _arm_page(conn, session, spec, feature)
    if spec.kind == "write":
        return _arm_writes(conn, session, spec, feature)
    assert spec.query is not None
    query = spec.query
    mode: PlanMode = "custom" if spec.kind == "query" else "generic"
    (params,) = _params(conn, session, [query], spec.persona)
    explain.set_plan_mode(conn, mode)
    return Armed(
        spec,
        feature.budget_ms,
        lambda: explain.execute(conn, query.text, params),
        lambda: explain.explain(conn, query.text, params, mode=mode),
        (query,),
        results=lambda: _digests(conn, [query], [params]),
        census=_census(conn, session, spec),
    )


def _digests(
    conn: Connection, queries: Sequence[Query], params: Sequence[Params]
) -> dict[str, ResultDigest]:
    """What each read returns, run once more as the rounds run it."""
    return {
        q.name: digest.digest(q.text, explain.execute(conn, q.text, p))
        for q, p in zip(queries, params, strict=True)
    }


def _census(
    conn: Connection, session: BenchSession, spec: BenchSpec
) -> Callable[[], tuple[PlanShape, ...]] | None:
    """The census of a user-scoped query, on the prepared benchmark of its first persona."""
    query = spec.query
    if (
        spec.kind != "query"
        or query is None
        or session.population is None
        or query.personas != USER_PERSONAS
        or spec.persona != USER_PERSONAS[0]
    ):
        return None

    def plans() -> tuple[PlanShape, ...]:
        users = session.user_sample(conn)
        now = data_now(conn)
        return census.census(conn, query, users, pickers=session.pickers, now=now)

    return plans


def _arm_page(conn: Connection, session: BenchSession, spec: BenchSpec, feature: Feature) -> Armed:
    params = _params(conn, session, feature.reads, spec.persona)
    explain.set_plan_mode(conn, "custom")
    per_query: dict[str, list[float]] = {q.name: [] for q in feature.reads}

    def load_page() -> None:
        for query, values in zip(feature.reads, params, strict=True):
            start = time.perf_counter()
            explain.execute(conn, query.text, values)
            per_query[query.name].append(time.perf_counter() - start)

    def evidence() -> PlanFacts:
        facts = [
            explain.explain(conn, q.text, p, mode="custom")
            for q, p in zip(feature.reads, params, strict=True)
        ]
        return explain.combine(facts, [q.name for q in feature.reads])

    return Armed(
        spec,
        feature.budget_ms,
        load_page,
        evidence,
        feature.reads,
        per_query,
        results=lambda: _digests(conn, feature.reads, params),
    )


def _write_path(
    conn: Connection, steps: Sequence[tuple[Query, Params]], *, evidence: bool
) -> list[PlanFacts]:
    """Run the write steps in one transaction that is always rolled back."""
    facts: list[PlanFacts] = []
    with conn.transaction(force_rollback=True):
        carried: Params = {}
        for query, params in steps:
            values = {**params, **carried}
            if evidence:
                facts.append(_write_evidence(conn, query, values))
            carried.update(explain.execute_returning(conn, query.text, values))
    return facts


#: EXPLAIN passes of each write step; its WAL is the least any pass wrote.
WAL_PASSES = 3


def _write_evidence(conn: Connection, query: Query, values: Params) -> PlanFacts:
    """One write step's plan facts, its WAL the least of ``WAL_PASSES`` rolled-back passes.

    What one pass logs besides the write's own records is housekeeping left by the timed
    rounds (a page pruned, an index page split): it falls on one pass, not on all three.
    """
    passes = []
    for _ in range(WAL_PASSES):
        with conn.transaction(force_rollback=True):
            passes.append(explain.explain(conn, query.text, values, mode="custom", wal=True))
    least = min(passes, key=lambda f: (f.wal_bytes or 0, f.wal_records or 0))
    return replace(passes[0], wal_records=least.wal_records, wal_bytes=least.wal_bytes)


def _arm_writes(
    conn: Connection, session: BenchSession, spec: BenchSpec, feature: Feature
) -> Armed:
    steps = list(
        zip(feature.writes, _params(conn, session, feature.writes, spec.persona), strict=True)
    )
    explain.set_plan_mode(conn, "custom")
    names = [q.name for q in feature.writes]
    return Armed(
        spec,
        feature.budget_ms,
        lambda: _write_path(conn, steps, evidence=False),
        lambda: explain.combine(_write_path(conn, steps, evidence=True), names),
        feature.writes,
    )


def record_of(
    conn: Connection,
    armed: Armed,
    samples_s: Sequence[float],
    facts: PlanFacts,
    *,
    name: str,
    cpu_pressure: float | None,
) -> BenchmarkRecord:
    """The benchmark's record: timings, plan evidence, and what the database says of both."""
    queries = armed.statements
    expected = tuple(sorted({i for q in queries for i in q.expected_indexes}))
    # Rounded once: the file and the in-process verdict see the same numbers.
    samples = [round(s * 1000, 4) for s in samples_s]
    return BenchmarkRecord(
        key=armed.spec.key,
        name=name,
        samples_ms=tuple(samples),
        median_ms=statistics.median(samples),
        p95_ms=round(percentile(samples, 95), 4),
        budget_ms=armed.budget_ms,
        p50_ms=round(percentile(samples, 50), 4),
        p99_ms=round(percentile(samples, 99), 4),
        rows=facts.rows,
        buffers=facts.buffers,
        server_ms=round(facts.server_ms, 4),
        cpu_pressure=None if cpu_pressure is None else round(cpu_pressure, 3),
        plan_indexes=facts.indexes,
        expected_indexes=tuple(explain.resolve_expected(expected, facts.indexes)),
        seq_scans=facts.seq_scans,
        seqscan_allowed=tuple(sorted({t for q in queries for t in q.seqscan_allowed})),
        plan=facts.plan,
        large_seq_scans=tuple(explain.large_relations(conn, facts.seq_scans)),
        sorts=facts.sorts,
        keyset=armed.spec.kind in ("query", "generic") and queries[0].keyset,
        missing_indexes=tuple(_missing(conn, expected)),
        catalog_problems=tuple(_catalog_problems(conn, armed)),
        per_query_ms={
            n: round(statistics.median(t) * 1000, 4) for n, t in armed.per_query_s.items() if t
        },
        results=armed.results() if armed.results else None,
        temp_blocks=facts.temp_blocks,
        spills=facts.spills,
        misestimates=facts.misestimates,
        wal_records=facts.wal_records,
        wal_bytes=facts.wal_bytes,
        dirtied=facts.dirtied,
        write_indexes=explain.table_indexes(conn, facts.written_tables)
        if armed.spec.kind == "write"
        else None,
        user_plans=armed.census() if armed.census else None,
    )


def _missing(conn: Connection, entries: Sequence[str]) -> list[str]:
    """Expected entries none of whose alternatives exists (named by their first choice)."""
    names = [n for e in entries for n in explain.alternatives(e)]
    absent = set(explain.missing_indexes(conn, names))
    return [
        explain.alternatives(e)[0]
        for e in entries
        if all(n in absent for n in explain.alternatives(e))
    ]


def _catalog_problems(conn: Connection, armed: Armed) -> list[str]:
    """A query's 'partial' flag must match whether an expected index is partial."""
    if armed.spec.kind != "query" or armed.spec.query is None:
        return []
    query = armed.spec.query
    names = [n for e in query.expected_indexes for n in explain.alternatives(e)]
    partial = explain.partial_indexes(conn, names)
    if partial and not query.partial:
        return [
            f"{query.qualified} relies on partial index {', '.join(partial)}: declare "
            '"partial": true so it is also measured under a generic plan'
        ]
    if query.partial and not partial:
        return [f'{query.qualified} declares "partial" but none of its expected indexes is']
    return []


# --------------------------------------------------------------------------- pytest-benchmark


def _timed_rounds(benchmark: Benchmark, length: RunLength, armed: Armed) -> list[float]:
    rounds = length.rounds_for(warm_up(length, armed.one_round))
    for timings in armed.per_query_s.values():
        timings.clear()  # the warm-up's statements are not the steady state
    samples: list[float] = []

    def timed_round() -> None:
        samples.append(explain.timed(armed.one_round))

    benchmark.pedantic(timed_round, rounds=rounds, warmup_rounds=0, iterations=1)
    return samples


def run_benchmark(
    benchmark: Benchmark, session: BenchSession, spec: BenchSpec, *, name: str
) -> BenchmarkRecord:
    """Measure one benchmark through pytest-benchmark and record its evidence in extra_info."""
    with session.connection() as conn:
        armed = arm(conn, session, spec)
        with pressure_over() as pressure:
            samples = _timed_rounds(benchmark, session.length, armed)
        record = record_of(
            conn, armed, samples, armed.evidence(), name=name, cpu_pressure=pressure.share
        )
    benchmark.group = spec.feature
    benchmark.extra_info.update(record.to_extra_info())
    return record
