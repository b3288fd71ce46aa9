"""Schema-health checks on the platform's indexed schema, and proof each check can fail."""

from __future__ import annotations

import warnings
from dataclasses import replace

import pytest

from pgperf.config import Config
from pgperf.data import database
from pgperf.indexes import health
from pgperf.indexes.apply import apply_monitoring
from pgperf.indexes.template import ensure_bench_chain
from pgperf.provision import ServerHandle

pytestmark = pytest.mark.integration

FAILING = [c.name for c in health.CHECKS if c.fails]


def _run(dsn: str, config: Config, name: str) -> health.CheckResult:
    with database.connect(dsn) as conn:
        return health.run_check(conn, config.layout.health_dir, health.check_by_name(name))


@pytest.mark.parametrize("name", FAILING)
def test_platform_schema_passes(small_bench_db: str, pgperf_config: Config, name: str) -> None:
    result = _run(small_bench_db, pgperf_config, name)
    assert result.passed, result.describe()


def test_index_intersections_are_reported_not_failed(
    small_bench_db: str, pgperf_config: Config
) -> None:
    result = _run(small_bench_db, pgperf_config, "intersecting_indexes")
    pairs = {(r["index_name"], r["shares_leading_column_with"]) for r in result.rows}
    # Deliberate: both lead with user_id, for different second columns and queries.
    assert ("idx_tasks_user_status_created", "idx_tasks_user_created") in pairs
    assert result.passed
    warnings.warn(result.describe(), stacklevel=1)


@pytest.fixture
def monitored_schema_db(schema_db: str, pgperf_config: Config) -> str:
    """A schema-only database with the monitoring layer (no performance indexes)."""
    with database.connect(schema_db) as conn:
        apply_monitoring(conn, pgperf_config.layout.monitoring_file)
    return schema_db


def _plant(dsn: str, statements: str) -> None:
    with database.connect(dsn) as conn:
        conn.execute(statements.encode())


def test_an_invalid_index_is_found(monitored_schema_db: str, pgperf_config: Config) -> None:
    _plant(
        monitored_schema_db,
        "INSERT INTO subscription_tiers (name, price_cents, monthly_credits) "
        "VALUES ('a', 0, 10), ('b', 1, 10)",
    )
    with database.connect(monitored_schema_db) as conn, pytest.raises(Exception, match="unique"):
        conn.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY idx_bad ON subscription_tiers (monthly_credits)"
        )
    result = _run(monitored_schema_db, pgperf_config, "invalid_indexes")
    assert [r["index_name"] for r in result.rows] == ["idx_bad"]
    assert not result.passed


def test_exact_and_prefix_duplicates_are_found(
    monitored_schema_db: str, pgperf_config: Config
) -> None:
    _plant(
        monitored_schema_db,
        "CREATE INDEX dup_a ON users (full_name);"
        "CREATE INDEX dup_b ON users (full_name);"
        "CREATE INDEX email_again ON users (email);"
        "CREATE INDEX short ON users (last_login_at DESC);"
        "CREATE INDEX long ON users (last_login_at, full_name);"
        # not duplicates: another predicate, and a unique index is never the redundant side
        "CREATE INDEX partial_short ON users (created_at) WHERE is_active;"
        "CREATE INDEX long_created ON users (created_at, full_name);",
    )
    result = _run(monitored_schema_db, pgperf_config, "duplicate_indexes")
    found = {(r["kind"], r["index_name"], r["covered_by"]) for r in result.rows}
    assert found == {
        ("exact", "dup_b", "dup_a"),
        ("exact", "email_again", "users_email_key"),
        ("prefix", "short", "long"),
    }


def test_foreign_keys_without_index_are_found(
    monitored_schema_db: str, pgperf_config: Config
) -> None:
    before = _run(monitored_schema_db, pgperf_config, "foreign_keys_without_index")
    _plant(
        monitored_schema_db,
        "CREATE INDEX tasks_user_partial ON tasks (user_id) WHERE status = 'failed';"
        "CREATE INDEX tasks_agent ON tasks (agent_id, created_at);",
    )
    after = _run(monitored_schema_db, pgperf_config, "foreign_keys_without_index")
    names_before = {r["constraint_name"] for r in before.rows}
    names_after = {r["constraint_name"] for r in after.rows}
    assert {"tasks_user_id_fkey", "tasks_agent_id_fkey"} <= names_before
    assert names_before - names_after == {"tasks_agent_id_fkey"}  # a partial index is no help
    assert not after.passed


def test_table_without_primary_key_and_json_column_are_found(
    monitored_schema_db: str, pgperf_config: Config
) -> None:
    _plant(
        monitored_schema_db,
        "CREATE TABLE audit_log (at timestamptz, note text);"
        "CREATE TABLE webhooks (id int PRIMARY KEY, body json);",
    )
    no_pk = _run(monitored_schema_db, pgperf_config, "tables_without_primary_key")
    json_cols = _run(monitored_schema_db, pgperf_config, "json_columns")
    assert [r["table_name"] for r in no_pk.rows] == ["audit_log"]
    assert [(r["table_name"], r["column_name"]) for r in json_cols.rows] == [("webhooks", "body")]


def test_a_function_no_longer_immutable_in_an_index_is_found(
    monitored_schema_db: str, pgperf_config: Config
) -> None:
    _plant(
        monitored_schema_db,
        "CREATE FUNCTION utc_day(t timestamptz) RETURNS timestamp LANGUAGE sql IMMUTABLE "
        "AS $$ SELECT date_trunc('day', t AT TIME ZONE 'UTC') $$;"
        "CREATE FUNCTION is_big(n integer) RETURNS boolean LANGUAGE sql IMMUTABLE "
        "AS $$ SELECT n > 1000 $$;"
        "CREATE INDEX tasks_day ON tasks (utc_day(created_at));"
        "CREATE INDEX tasks_big ON tasks (user_id) WHERE is_big(input_tokens);",
    )
    assert _run(monitored_schema_db, pgperf_config, "mutable_index_expressions").rows == ()
    _plant(
        monitored_schema_db,
        "ALTER FUNCTION utc_day(timestamptz) STABLE; ALTER FUNCTION is_big(integer) VOLATILE;",
    )
    result = _run(monitored_schema_db, pgperf_config, "mutable_index_expressions")
    found = {(r["index_name"], r["function"], r["volatility"]) for r in result.rows}
    assert found == {
        ("tasks_day", "utc_day(timestamp with time zone)", "STABLE"),
        ("tasks_big", "is_big(integer)", "VOLATILE"),
    }


def test_matviews_without_a_plain_unique_index_are_found(
    monitored_schema_db: str, pgperf_config: Config
) -> None:
    _plant(
        monitored_schema_db,
        "CREATE MATERIALIZED VIEW mv_none AS SELECT 1 AS k;"
        "CREATE MATERIALIZED VIEW mv_partial AS SELECT 1 AS k;"
        "CREATE UNIQUE INDEX ON mv_partial (k) WHERE k > 0;"
        "CREATE MATERIALIZED VIEW mv_ok AS SELECT 1 AS k;"
        "CREATE UNIQUE INDEX ON mv_ok (k);",
    )
    result = _run(monitored_schema_db, pgperf_config, "matviews_without_unique_index")
    assert [r["view_name"] for r in result.rows] == ["mv_none", "mv_partial"]


def test_the_ci_bench_database_passes_every_check(
    pg_server: ServerHandle, pgperf_config: Config
) -> None:
    """The database benchmarks actually run on: seeded data, indexes, monitoring, MVs.

    Always the ci profile (as the seeding tests), whatever the session's profile; under
    `make test` it is the very template the perf tests use, so it is built once.
    """
    ci = replace(pgperf_config, profile="ci", seed=42)
    chain = ensure_bench_chain(pg_server, ci)
    with (
        database.scratch_database(pg_server, template=chain.bench.name, label="health") as dsn,
        database.connect(dsn) as conn,
    ):
        results = health.run_health_checks(conn, pgperf_config.layout.health_dir)
    failed = [r.describe() for r in results if not r.passed]
    assert failed == []
    assert {r.check.name for r in results} == {c.name for c in health.CHECKS}
