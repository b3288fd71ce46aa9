"""The measurement engine on a real PostgreSQL: parameters, plans, generic plans, rollback."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgperf import bench, database, measure
from pgperf.bench import BenchSession
from pgperf.catalog import Catalog, load_catalog

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
    return BenchSession(engine_db, catalog, measure.RunLength(1, 5, 5, 0.01))


def _query(catalog: Catalog, name: str) -> object:
    return next(q for q in catalog.feature("feat").reads if q.name == name)


def test_parameters_come_from_personas_meta_pickers_and_literals(session: BenchSession) -> None:
    sources = {"u": "persona", "now": "data_now", "email": "pick:an_email", "j": {"a": 1}}
    with session.connection() as conn:
        values = measure.resolve_params(conn, sources, persona="heavy", pickers=session.pickers)
    assert values["u"] == 1
    assert values["now"].isoformat() == "2026-11-01T12:00:00+00:00"
    assert values["email"] == "u7@example.com"
    assert values["j"].obj == {"a": 1}


def test_an_unknown_persona_is_a_clear_error(session: BenchSession) -> None:
    with session.connection() as conn, pytest.raises(measure.MeasureError, match="persona"):
        measure.resolve_params(conn, {"u": "persona"}, persona="nobody", pickers={})


def test_a_benchmark_fills_extra_info_and_passes_its_checks(
    benchmark, session: BenchSession, catalog: Catalog
) -> None:
    query = _query(catalog, "recent")
    outcome = bench.bench_query(benchmark, session, query, persona="heavy", mode="custom")
    info = benchmark.extra_info
    assert info["key"] == "feat/recent|heavy|prepared"
    assert info["rows"] == 10
    assert info["buffers"] > 0
    assert info["plan_indexes"] == ["idx_test_tasks_user_created"]
    assert len(info["samples_ms"]) == 5
    assert info["p50_ms"] <= info["p95_ms"] <= info["p99_ms"]
    assert "Total Cost" not in repr(info["plan"])
    assert bench.verdict(session, outcome) == []


def test_generic_plan_keeps_a_partial_index_only_with_literal_predicates(
    session: BenchSession,
) -> None:
    literal = "SELECT id FROM tasks WHERE user_id = %(u)s AND status IN ('pending', 'running')"
    param = "SELECT id FROM tasks WHERE user_id = %(u)s AND status = ANY(%(s)s::task_status[])"
    values = {"u": 1, "s": ["pending", "running"]}
    with session.connection() as conn:
        kept = measure.explain(conn, literal, values, mode="generic")
        custom = measure.explain(conn, param, values, mode="custom")
        lost = measure.explain(conn, param, values, mode="generic")
    assert "idx_test_tasks_active" in kept.indexes
    # With the values bound the planner proves the predicate; under a generic plan it cannot.
    assert "idx_test_tasks_active" in custom.indexes
    assert "idx_test_tasks_active" not in lost.indexes


def test_plan_checks_catch_a_missing_index_a_seq_scan_and_a_sort(
    session: BenchSession, catalog: Catalog
) -> None:
    query = _query(catalog, "by_email")
    facts = measure.PlanFacts(
        rows=1, buffers=10, server_ms=1.0, indexes=(), seq_scans=("users",), sorts=1
    )
    outcome = bench.Outcome(
        "feat", "by_email", "any", "prepared", 1000, [0.001], facts,
        expected_indexes=("idx_gone", "users_email_key"), keyset=True,
    )  # fmt: skip
    problems = bench.plan_problems(session, outcome)
    assert any("idx_gone does not exist" in p for p in problems)
    assert any("does not use expected index users_email_key" in p for p in problems)
    assert any("Seq Scan on large table users" in p for p in problems)
    assert any("Sort node" in p for p in problems)
    assert bench.partial_problems(session, query) == []


def test_partial_flag_must_match_the_database(session: BenchSession, catalog: Catalog) -> None:
    recent = _query(catalog, "recent")
    active = _query(catalog, "active")
    assert bench.partial_problems(session, active) == []
    unflagged = type(active)(**{**active.__dict__, "partial": False})
    assert "declare" in bench.partial_problems(session, unflagged)[0]
    flagged = type(recent)(**{**recent.__dict__, "partial": True})
    assert "none of its expected indexes" in bench.partial_problems(session, flagged)[0]


def test_budget_message_names_feature_p95_budget_and_costliest_query() -> None:
    facts = measure.PlanFacts(rows=0, buffers=0, server_ms=0, indexes=(), seq_scans=(), sorts=0)
    outcome = bench.Outcome(
        "feat", "page", "heavy", "page", 50, [0.04] * 18 + [0.09] * 2, facts,
        per_query_ms={"fast": 1.0, "slow": 38.0},
    )  # fmt: skip
    message = bench.budget_message(outcome)
    assert message is not None
    for part in ("feat", "p95", "budget 50 ms", "feat/slow"):
        assert part in message


def test_write_path_is_rolled_back_every_round(benchmark, session: BenchSession) -> None:
    feature = session.catalog.feature("feat")
    with session.connection() as conn:
        before = conn.execute("SELECT count(*), max(id) FROM tasks").fetchone()
    outcome = bench.bench_writes(benchmark, session, feature, persona="heavy")
    with session.connection() as conn:
        after = conn.execute("SELECT count(*), max(id) FROM tasks").fetchone()
    assert after == before
    assert "tasks_pkey" in outcome.facts.indexes
    assert set(outcome.facts.plan) == {"create", "start"}
    assert bench.verdict(session, outcome) == []
