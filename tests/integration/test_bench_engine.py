"""The measurement engine on a real PostgreSQL: parameters, plans, generic plans, rollback."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pgperf.data import database
from pgperf.measure import explain
from pgperf.measure.catalog import Catalog, Query, load_catalog
from pgperf.measure.params import (
    DataNow,
    Literal,
    MeasureError,
    Persona,
    Pick,
    parse_source,
    resolve_params,
)
from pgperf.measure.plan import BenchSpec
from pgperf.measure.runner import Armed, BenchSession, RunLength, arm, record_of, run_benchmark
from pgperf.verdict.findings import BenchmarkVerdict, Rule
from pgperf.verdict.record import BenchmarkKey, BenchmarkRecord

pytestmark = pytest.mark.integration

DATA = Path(__file__).parent / "sql" / "bench_engine_data.sql"

QUERIES = {
    "recent.sql": (
        '-- pgperf: {"params": {"user_id": "persona"}, '
        '"indexes": ["idx_test_tasks_user_created"], "keyset": true}\n'
        "SELECT id FROM tasks WHERE user_id = %(user_id)s "
        "ORDER BY created_at DESC, id DESC LIMIT 10"
    ),
    "active.sql": (
        '-- pgperf: {"params": {"user_id": "persona"}, '
        '"indexes": ["idx_test_tasks_active"], "partial": true}\n'
        "SELECT id FROM tasks WHERE user_id = %(user_id)s "
        "AND status IN ('pending', 'queued', 'running') ORDER BY created_at DESC"
    ),
    "by_email.sql": (
        '-- pgperf: {"params": {"email": "pick:an_email"}, "indexes": ["users_email_key"]}\n'
        "SELECT id FROM users WHERE lower(email) = %(email)s ORDER BY id"
    ),
    "create.sql": (
        '-- pgperf: {"params": {"user_id": "persona", "payload": {"model": "m"}}, "write": 1}\n'
        "INSERT INTO tasks (user_id, provider_model_id, provider_id, task_type, source, "
        "request_payload) VALUES (%(user_id)s, 1, 1, 'text_generation', 'playground', "
        "%(payload)s) RETURNING id AS task_id"
    ),
    "start.sql": (
        '-- pgperf: {"params": {"task_id": "step"}, "indexes": ["tasks_pkey"], "write": 2}\n'
        "UPDATE tasks SET status = 'running', started_at = created_at WHERE id = %(task_id)s"
    ),
}
PICKER = "SELECT 'u7@example.com' AS email, %(now)s::timestamptz AS unused"


@pytest.fixture
def engine_db(schema_db: str) -> str:
    """The platform schema with the engine tests' small data set."""
    with database.connect(schema_db) as conn:
        database.apply_sql_file(conn, DATA)
        conn.execute("VACUUM ANALYZE")
    return schema_db


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    """A one-feature catalog of the queries above."""
    for name, text in QUERIES.items():
        path = tmp_path / "queries" / "feat" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    picker = tmp_path / "queries" / "_pickers" / "an_email.sql"
    picker.parent.mkdir()
    picker.write_text(PICKER.replace("%(now)s", "now()"))
    (tmp_path / "budgets.toml").write_text("[budgets]\nfeat = 1000\n")
    return load_catalog(tmp_path / "queries", tmp_path / "budgets.toml")


@pytest.fixture
def session(engine_db: str, catalog: Catalog) -> BenchSession:
    """A BenchSession over the small data set with a short run length."""
    return BenchSession(engine_db, catalog, RunLength(1, 5, 5, 0.01))


def _query(catalog: Catalog, name: str) -> Query:
    return next(q for q in catalog.feature("feat").reads if q.name == name)


def _evidence_only(
    session: BenchSession, spec: BenchSpec, facts: explain.PlanFacts
) -> tuple[BenchmarkRecord, BenchmarkVerdict]:
    """The record of ``spec`` with made-up plan facts, judged against the real database."""
    with session.connection() as conn:
        armed = arm(conn, session, spec)
        staged = Armed(spec, armed.budget_ms, armed.one_round, lambda: facts, armed.statements)
        record = record_of(conn, staged, [0.001], staged.evidence(), name="t", cpu_pressure=None)
    return record, session.judging.judge(record)


def test_parameters_come_from_personas_meta_pickers_and_literals(session: BenchSession) -> None:
    raw = {"u": "persona", "now": "data_now", "email": "pick:an_email", "j": {"a": 1}}
    sources = {name: parse_source(value) for name, value in raw.items()}
    assert sources == {"u": Persona(), "now": DataNow(), "email": Pick("an_email"),
                       "j": Literal({"a": 1})}  # fmt: skip
    with session.connection() as conn:
        values = resolve_params(conn, sources, persona="heavy", pickers=session.pickers)
    assert values["u"] == 1
    assert values["now"].isoformat() == "2026-11-01T12:00:00+00:00"  # type: ignore[attr-defined]
    assert values["email"] == "u7@example.com"
    assert values["j"].obj == {"a": 1}  # type: ignore[attr-defined]


def test_an_unknown_persona_is_a_clear_error(session: BenchSession) -> None:
    with session.connection() as conn, pytest.raises(MeasureError, match="persona"):
        resolve_params(conn, {"u": Persona()}, persona="nobody", pickers={})


def test_a_benchmark_fills_extra_info_and_passes_its_checks(
    benchmark: Any, session: BenchSession, catalog: Catalog
) -> None:
    spec = BenchSpec("query", "feat", "heavy", _query(catalog, "recent"))
    record = run_benchmark(benchmark, session, spec, name="recent")
    info = benchmark.extra_info
    assert info == record.to_extra_info()
    assert info["key"] == "feat/recent|heavy|prepared"
    assert record.key == BenchmarkKey("feat", "recent", "heavy", "prepared")
    assert info["rows"] == 10
    assert info["buffers"] > 0
    assert info["plan_indexes"] == ["idx_test_tasks_user_created"]
    assert len(info["samples_ms"]) == 5
    assert info["p50_ms"] <= info["p95_ms"] <= info["p99_ms"]
    assert "Total Cost" not in repr(info["plan"])
    assert info["keyset"] is True
    assert info["sorts"] == 0
    assert session.judging.judge(record).failures == ()


def test_generic_plan_keeps_a_partial_index_only_with_literal_predicates(
    session: BenchSession,
) -> None:
    literal = "SELECT id FROM tasks WHERE user_id = %(u)s AND status IN ('pending', 'running')"
    param = "SELECT id FROM tasks WHERE user_id = %(u)s AND status = ANY(%(s)s::task_status[])"
    values = {"u": 1, "s": ["pending", "running"]}
    with session.connection() as conn:
        kept = explain.explain(conn, literal, values, mode="generic")
        custom = explain.explain(conn, param, values, mode="custom")
        lost = explain.explain(conn, param, values, mode="generic")
    assert "idx_test_tasks_active" in kept.indexes
    # With the values bound the planner proves the predicate; under a generic plan it cannot.
    assert "idx_test_tasks_active" in custom.indexes
    assert "idx_test_tasks_active" not in lost.indexes


def test_plan_rule_catches_a_missing_index_a_seq_scan_and_a_sort(
    session: BenchSession, catalog: Catalog
) -> None:
    query = replace(
        _query(catalog, "by_email"), expected_indexes=("idx_gone", "users_email_key"), keyset=True
    )
    facts = explain.PlanFacts(
        rows=1, buffers=10, server_ms=1.0, indexes=(), seq_scans=("users",), sorts=1
    )
    record, verdict = _evidence_only(session, BenchSpec("query", "feat", "any", query), facts)
    # The facts only the database knows were recorded with the measurement.
    assert record.missing_indexes == ("idx_gone",)
    assert record.large_seq_scans == ("users",)
    assert record.catalog_problems == ()
    problems = verdict.failures
    assert verdict.failed
    assert verdict.rule is Rule.PLAN
    assert any("idx_gone does not exist" in p for p in problems)
    assert any("does not use expected index users_email_key" in p for p in problems)
    assert any("Seq Scan on large table users" in p for p in problems)
    assert any("Sort node" in p for p in problems)


def test_partial_flag_must_match_the_database(session: BenchSession, catalog: Catalog) -> None:
    recent = _query(catalog, "recent")
    active = _query(catalog, "active")
    facts = explain.PlanFacts(rows=0, buffers=0, server_ms=0, indexes=(), seq_scans=(), sorts=0)

    def problems(query: Query) -> tuple[str, ...]:
        record, _ = _evidence_only(session, BenchSpec("query", "feat", "heavy", query), facts)
        return record.catalog_problems

    assert problems(active) == ()
    unflagged = problems(replace(active, partial=False))
    assert len(unflagged) == 1
    assert "declare" in unflagged[0]
    flagged = problems(replace(recent, partial=True))
    assert len(flagged) == 1
    assert "none of its expected indexes" in flagged[0]
    record, verdict = _evidence_only(
        session, BenchSpec("query", "feat", "heavy", replace(recent, partial=True)), facts
    )
    assert record.catalog_problems[0] in verdict.failures  # the plan rule fails on it


def test_budget_failure_names_feature_p95_budget_and_costliest_query(
    session: BenchSession,
) -> None:
    reads = session.catalog.feature("feat").reads
    used = tuple(sorted({i for q in reads for i in q.expected_indexes}))
    facts = explain.PlanFacts(rows=0, buffers=0, server_ms=0, indexes=used, seq_scans=(), sorts=0)
    per_query = {"recent": [0.001], "active": [0.038], "by_email": [0.002]}
    with session.connection() as conn:
        page = arm(conn, session, BenchSpec("page", "feat", "heavy"))
        assert set(page.per_query_s) == set(per_query)
        page = Armed(page.spec, 50, page.one_round, lambda: facts, page.statements, per_query)
        samples = [0.04] * 18 + [0.09] * 2
        record = record_of(conn, page, samples, facts, name="page", cpu_pressure=None)
    verdict = session.judging.judge(record)
    assert record.key == BenchmarkKey("feat", "page", "heavy", "page")
    assert record.costliest == ("active", 38.0)
    assert verdict.rule is Rule.BUDGET
    (message,) = verdict.failures  # nothing but the budget fails
    for part in ("p95", "over the 50 ms budget", "feat/active", "median 38 ms"):
        assert part in message


def test_write_path_is_rolled_back_every_round(benchmark: Any, session: BenchSession) -> None:
    with session.connection() as conn:
        before = conn.execute("SELECT count(*), max(id) FROM tasks").fetchone()
    record = run_benchmark(benchmark, session, BenchSpec("write", "feat", "heavy"), name="writes")
    with session.connection() as conn:
        after = conn.execute("SELECT count(*), max(id) FROM tasks").fetchone()
    assert after == before
    assert record.key == BenchmarkKey("feat", "write_path", "heavy", "write")
    assert "tasks_pkey" in record.plan_indexes
    assert set(record.plan) == {"create", "start"}
    assert len(record.samples_ms) == 5
    assert session.judging.judge(record).failures == ()
