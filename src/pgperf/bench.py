"""Catalog benchmarks through pytest-benchmark: time, explain, fill extra_info, judge.

The tests in ``tests/perf`` stay thin: they pick a feature, a query, a persona and a
variant, and call one function here. Timed rounds never include connecting, resolving
parameters or EXPLAIN; those happen before and after ``benchmark.pedantic``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from pgperf import measure, results
from pgperf.catalog import Catalog, Feature, Query, default_catalog
from pgperf.config import Config
from pgperf.database import Connection, connect
from pgperf.measure import Params, PlanFacts, PlanMode, RunLength
from pgperf.monitor import PerformanceMonitor, index_usage_entries, warn_unused_indexes
from pgperf.provision import ServerHandle
from pgperf.stats import percentile

PAGE = "page"
WRITE_PATH = "write_path"


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
class BenchSession:
    """What every benchmark of a run shares: the database, the catalog, the run length."""

    dsn: str
    catalog: Catalog
    length: RunLength

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
class Outcome:
    """One benchmark's measurements and the expectations they are judged against."""

    feature: str
    query: str
    persona: str
    variant: str
    budget_ms: float
    samples_s: list[float]
    facts: PlanFacts
    expected_indexes: tuple[str, ...] = ()
    seqscan_allowed: tuple[str, ...] = ()
    keyset: bool = False
    # statement -> median ms inside this benchmark (a page names its costliest query).
    per_query_ms: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The id baseline and results are matched by."""
        return f"{self.feature}/{self.query}|{self.persona}|{self.variant}"

    def ms(self, q: float) -> float:
        """The q-th percentile of the round timings, in ms."""
        return percentile(self.samples_s, q) * 1000

    @property
    def costliest(self) -> tuple[str, float]:
        """The statement that cost the most (median ms) within this benchmark."""
        if not self.per_query_ms:
            return self.query, self.ms(50)
        name = max(self.per_query_ms, key=lambda n: self.per_query_ms[n])
        return name, self.per_query_ms[name]


def extra_info(outcome: Outcome) -> dict[str, Any]:
    """The results-file evidence of one benchmark (docs/ARCHITECTURE.md, results file)."""
    facts = outcome.facts
    return {
        "key": outcome.key,
        "feature": outcome.feature,
        "query": outcome.query,
        "persona": outcome.persona,
        "variant": outcome.variant,
        "budget_ms": outcome.budget_ms,
        "p50_ms": round(outcome.ms(50), 4),
        "p95_ms": round(outcome.ms(95), 4),
        "p99_ms": round(outcome.ms(99), 4),
        "samples_ms": [round(s * 1000, 4) for s in outcome.samples_s],
        "rows": facts.rows,
        "buffers": facts.buffers,
        "server_ms": round(facts.server_ms, 4),
        "plan_indexes": list(facts.indexes),
        "expected_indexes": measure.resolve_expected(outcome.expected_indexes, facts.indexes),
        "seq_scans": list(facts.seq_scans),
        "seqscan_allowed": list(outcome.seqscan_allowed),
        "plan": facts.plan,
    }


def _run(benchmark: Benchmark, length: RunLength, one_round: Callable[[], object]) -> list[float]:
    """Warm up, size the rounds to the run length, time them; return per-round seconds."""
    warm: list[float] = []
    while len(warm) < length.warmup_rounds:
        warm.append(measure.timed(one_round))
        if warm[-1] >= length.slow_round_s:
            break  # one round of a slow report has warmed everything it reads
    rounds = length.rounds_for(statistics.mean(warm) if warm else 0.0)
    samples: list[float] = []

    def timed_round() -> None:
        samples.append(measure.timed(one_round))

    benchmark.pedantic(timed_round, rounds=rounds, warmup_rounds=0, iterations=1)
    return samples


def _record(benchmark: Benchmark, outcome: Outcome) -> Outcome:
    benchmark.group = outcome.feature
    benchmark.extra_info.update(extra_info(outcome))
    return outcome


def bench_query(
    benchmark: Benchmark, session: BenchSession, query: Query, *, persona: str, mode: PlanMode
) -> Outcome:
    """One catalog read, prepared, under custom or generic plans, for one persona."""
    feature = session.catalog.feature(query.feature)
    with session.connection() as conn:
        params = measure.resolve_params(
            conn, query.params, persona=persona, pickers=session.pickers
        )
        measure.set_plan_mode(conn, mode)
        samples = _run(benchmark, session.length, lambda: measure.execute(conn, query.text, params))
        facts = measure.explain(conn, query.text, params, mode=mode)
    outcome = Outcome(
        feature=query.feature,
        query=query.name,
        persona=persona,
        variant="prepared" if mode == "custom" else "generic",
        budget_ms=feature.budget_ms,
        samples_s=samples,
        facts=facts,
        expected_indexes=query.expected_indexes,
        seqscan_allowed=query.seqscan_allowed,
        keyset=query.keyset,
    )
    return _record(benchmark, outcome)


def _page_params(
    conn: Connection, session: BenchSession, queries: Sequence[Query], persona: str
) -> list[Params]:
    # A global query on a user's page runs with the same values whoever looks at it.
    return [
        measure.resolve_params(
            conn,
            q.params,
            persona=persona if persona in q.personas else q.personas[0],
            pickers=session.pickers,
        )
        for q in queries
    ]


def bench_page(
    benchmark: Benchmark, session: BenchSession, feature: Feature, *, persona: str
) -> Outcome:
    """The whole screen as its user sees it: every read of the feature in sequence."""
    with session.connection() as conn:
        all_params = _page_params(conn, session, feature.reads, persona)
        measure.set_plan_mode(conn, "custom")
        per_query: dict[str, list[float]] = {q.name: [] for q in feature.reads}

        def load_page() -> None:
            for query, params in zip(feature.reads, all_params, strict=True):
                start = time.perf_counter()
                measure.execute(conn, query.text, params)
                per_query[query.name].append(time.perf_counter() - start)

        samples = _run(benchmark, session.length, load_page)
        facts = [
            measure.explain(conn, q.text, p, mode="custom")
            for q, p in zip(feature.reads, all_params, strict=True)
        ]
    outcome = Outcome(
        feature=feature.name,
        query=PAGE,
        persona=persona,
        variant=PAGE,
        budget_ms=feature.budget_ms,
        samples_s=samples,
        facts=measure.combine(facts, [q.name for q in feature.reads]),
        expected_indexes=tuple(sorted({i for q in feature.reads for i in q.expected_indexes})),
        seqscan_allowed=tuple(sorted({t for q in feature.reads for t in q.seqscan_allowed})),
        per_query_ms={n: statistics.median(t) * 1000 for n, t in per_query.items() if t},
    )
    return _record(benchmark, outcome)


def _write_path(
    conn: Connection, steps: Sequence[tuple[Query, Params]], *, explain: bool
) -> list[PlanFacts]:
    """Run the write steps in one transaction that is always rolled back."""
    facts: list[PlanFacts] = []
    with conn.transaction(force_rollback=True):
        carried: Params = {}
        for query, params in steps:
            values = {**params, **carried}
            if explain:
                with conn.transaction(force_rollback=True):
                    facts.append(measure.explain(conn, query.text, values, mode="custom"))
            carried.update(measure.execute_returning(conn, query.text, values))
    return facts


def bench_writes(
    benchmark: Benchmark, session: BenchSession, feature: Feature, *, persona: str
) -> Outcome:
    """The feature's write path (e.g. create then complete a task), rolled back each round."""
    with session.connection() as conn:
        params = _page_params(conn, session, feature.writes, persona)
        steps = list(zip(feature.writes, params, strict=True))
        measure.set_plan_mode(conn, "custom")
        samples = _run(benchmark, session.length, lambda: _write_path(conn, steps, explain=False))
        facts = _write_path(conn, steps, explain=True)
    outcome = Outcome(
        feature=feature.name,
        query=WRITE_PATH,
        persona=persona,
        variant="write",
        budget_ms=feature.budget_ms,
        samples_s=samples,
        facts=measure.combine(facts, [q.name for q in feature.writes]),
        expected_indexes=tuple(sorted({i for q in feature.writes for i in q.expected_indexes})),
        seqscan_allowed=tuple(sorted({t for q in feature.writes for t in q.seqscan_allowed})),
    )
    return _record(benchmark, outcome)


# --- verdicts a test asserts ------------------------------------------------------------


def plan_problems(session: BenchSession, outcome: Outcome) -> list[str]:
    """Deterministic plan failures: expected index unused, undeclared large Seq Scan, Sort."""
    facts = outcome.facts
    with session.connection() as conn:
        names = [n for e in outcome.expected_indexes for n in measure.alternatives(e)]
        absent = set(measure.missing_indexes(conn, names))
        large = measure.large_relations(conn, facts.seq_scans)
    problems = []
    for entry in outcome.expected_indexes:
        choices = measure.alternatives(entry)
        if all(name in absent for name in choices):
            problems.append(f"expected index {entry} does not exist in the database")
        elif not any(name in facts.indexes for name in choices):
            uses = ", ".join(facts.indexes) or "none"
            problems.append(f"plan does not use expected index {entry} (it uses: {uses})")
    problems += [
        f"Seq Scan on large table {table} is not declared acceptable (metadata 'seqscan')"
        for table in large
        if table not in outcome.seqscan_allowed
    ]
    if outcome.keyset and facts.sorts:
        problems.append(
            f"keyset query has {facts.sorts} Sort node(s): its index no longer serves the order"
        )
    return problems


def partial_problems(session: BenchSession, query: Query) -> list[str]:
    """The query's 'partial' flag must match whether an expected index is partial."""
    with session.connection() as conn:
        names = [n for e in query.expected_indexes for n in measure.alternatives(e)]
        partial = measure.partial_indexes(conn, names)
    if partial and not query.partial:
        return [
            f"{query.qualified} relies on partial index {', '.join(partial)}: declare "
            '"partial": true so it is also measured under a generic plan'
        ]
    if query.partial and not partial:
        return [f'{query.qualified} declares "partial" but none of its expected indexes is']
    return []


def budget_message(outcome: Outcome) -> str | None:
    """None within budget, else a message naming feature, p95, budget and costliest query."""
    p95 = outcome.ms(95)
    if p95 <= outcome.budget_ms:
        return None
    name, cost = outcome.costliest
    return (
        f"{outcome.feature} over budget: p95 {p95:.1f} ms > budget {outcome.budget_ms:.0f} ms "
        f"({outcome.key}); costliest query: {outcome.feature}/{name} (median {cost:.1f} ms)"
    )


def verdict(session: BenchSession, outcome: Outcome) -> list[str]:
    """Every failure of one benchmark: plan problems first (deterministic), then the budget."""
    over = budget_message(outcome)
    # A page's statements are each judged on their plan by their own benchmark already.
    plans = [] if outcome.variant == PAGE else plan_problems(session, outcome)
    return plans + ([over] if over else [])


def feature_params(
    catalog: Catalog, feature: str, *, partial_only: bool = False
) -> list[tuple[Query, str]]:
    """(query, persona) pairs of a feature's reads, for pytest parametrization."""
    reads = catalog.feature(feature).reads
    chosen = [q for q in reads if q.partial] if partial_only else list(reads)
    return [(q, p) for q in chosen for p in q.personas]


def param_id(pair: tuple[Query, str]) -> str:
    """A readable pytest id: ``<query>-<persona>``."""
    return f"{pair[0].name}-{pair[1]}"


# --- the run as a whole: index usage and the results file's "pgperf" object -------------


@dataclass
class RunRecord:
    """What the results file needs from a benchmark run beyond pytest-benchmark's data."""

    server: ServerHandle
    index_usage: list[dict[str, object]] = field(default_factory=list)


@contextmanager
def recorded_session(dsn: str, config: Config, record: RunRecord) -> Iterator[BenchSession]:
    """The run's BenchSession; on exit, the index-usage delta over the run goes to ``record``."""
    session = BenchSession(
        dsn=dsn,
        catalog=default_catalog(config.project_root),
        length=measure.run_length(config.profile),
    )
    with PerformanceMonitor(dsn) as monitor:
        before = monitor.snapshot()
        yield session
        record.index_usage = index_usage_entries(before, monitor.snapshot())


def attribute_usage(
    entries: Sequence[dict[str, object]], benchmarks: Sequence[dict[str, Any]]
) -> list[dict[str, object]]:
    """Index-usage entries with ``used_by_benchmarks``: keys of benchmarks whose plan used it."""
    users: dict[str, list[str]] = {}
    for bench in benchmarks:
        extra = bench.get("extra_info") or {}
        for index in extra.get("plan_indexes", ()):
            users.setdefault(str(index), []).append(str(extra.get("key", bench.get("name"))))
    return [{**e, "used_by_benchmarks": sorted(users.get(str(e["index"]), []))} for e in entries]


def run_metadata(
    config: Config, record: RunRecord, benchmarks: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """The results file's top-level ``"pgperf"`` object (docs/ARCHITECTURE.md)."""
    usage = attribute_usage(record.index_usage, benchmarks)
    if usage:
        warn_unused_indexes(usage)
    return results.build_run_metadata(
        config,
        postgres_version=record.server.version,
        postgres_settings=record.server.settings,
        backend=record.server.backend,
        index_usage=usage,
    )
