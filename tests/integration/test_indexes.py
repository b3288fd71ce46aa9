"""sql/performance_indexes.sql applied by pgperf.indexes: complete, idempotent, incremental."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pgperf.config import Config
from pgperf.data import database
from pgperf.data.templates import BENCH, Template
from pgperf.errors import SqlFileError
from pgperf.indexes.apply import apply_index_file, expression_tables
from pgperf.indexes.template import bench_hash, ensure_bench_template
from pgperf.provision import ServerHandle

pytestmark = pytest.mark.integration

SMALL_DATA = Path(__file__).parent / "sql" / "small_platform.sql"

#: The brief's six categories and the minimum count of each.
MINIMUMS = {
    "single": 15,
    "composite": 12,
    "analytics": 8,
    "jsonb_gin": 6,
    "partial": 8,
    "lookup": 6,
}
#: Every index the brief names.
BRIEF_INDEXES = [
    "idx_tasks_status",
    "idx_tasks_created_at",
    "idx_agents_is_public",
    "idx_generated_content_content_type",
    "idx_tasks_user_status_created",
    "idx_agents_user_category_status",
    "idx_campaigns_user_type_status",
    "idx_generated_content_user_type_created",
    "idx_tasks_provider_status_created",
    "idx_tasks_created_month_user",
    "idx_generated_content_public_downloads",
    "idx_tasks_request_payload_gin",
    "idx_agents_configuration_gin",
    "idx_campaigns_metrics_gin",
    "idx_tasks_active_user_created",
    "idx_agents_marketplace",
    "idx_content_public_popular",
    "idx_provider_models_provider_cost",
    "idx_agent_categories_sort",
    "idx_subscription_tiers_price_credits",
]
COMMENT = re.compile(r"^category=(?P<category>[a-z_]+); serves=(?P<serves>[a-z_]+/[a-z_.,/]+)$")


def _oids(dsn: str) -> dict[str, int]:
    with database.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT indexrelid::regclass::text, indexrelid::int FROM pg_index "
            "WHERE indexrelid::regclass::text LIKE 'idx\\_%'"
        ).fetchall()
    return {str(name): int(str(oid)) for name, oid in rows}


@pytest.fixture
def index_path(tmp_path: Path, pgperf_config: Config) -> Path:
    """A private copy of the index file that a test may edit."""
    source = pgperf_config.layout.index_file
    path = tmp_path / source.name
    shutil.copy(source, path)
    return path


def test_the_file_has_the_brief_s_indexes_categories_and_comments(
    schema_db: str, pgperf_config: Config
) -> None:
    """>= 55 indexes, each category's minimum, every named index, a parseable comment each."""
    with database.connect(schema_db) as conn:
        report = apply_index_file(conn, pgperf_config.layout.index_file)
        rows = conn.execute(
            "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'idx\\_%'"
        ).fetchall()
    comments = {str(name): str(text) for name, text in rows}
    assert report.count("created") == len(comments) >= 55
    assert set(BRIEF_INDEXES) <= set(comments)
    parsed = {name: COMMENT.match(text) for name, text in comments.items()}
    assert [name for name, match in parsed.items() if match is None] == []
    counts = {cat: 0 for cat in MINIMUMS}
    for match in parsed.values():
        assert match is not None
        counts[match["category"]] += 1
    assert all(counts[cat] >= low for cat, low in MINIMUMS.items()), counts


def test_applying_again_builds_nothing(schema_db: str, index_path: Path) -> None:
    with database.connect(schema_db) as conn:
        first = apply_index_file(conn, index_path)
        before = _oids(schema_db)
        second = apply_index_file(conn, index_path)
    assert first.count("created") == len(first.indexes)
    assert second.count("unchanged") == len(second.indexes)
    assert (first.other_changed, second.other_changed) == (True, False)
    assert _oids(schema_db) == before


def test_index_builds_report_through_the_one_reporter_protocol(
    schema_db: str, index_path: Path, recording_reporter: Any
) -> None:
    with database.connect(schema_db) as conn:
        first = apply_index_file(conn, index_path, reporter=recording_reporter)
        second = apply_index_file(conn, index_path, reporter=recording_reporter)
    built, again = recording_reporter.tasks
    names = [i.name for i in first.indexes]
    for task in (built, again):
        assert (task.label, task.total, task.unit, task.rate, task.ended) == (
            "indexes",
            len(names),
            "indexes",
            False,
            True,
        )
        assert task.done == len(names)
        assert task.items == names  # each index named while it is in hand
    assert built.details == [i.line for i in first.indexes]  # every one was created
    assert again.details == []  # unchanged indexes are not worth a line
    assert recording_reporter.notes == [first.summary(), second.summary()]
    assert f"{len(names)} created" in first.summary()
    assert f"{len(names)} unchanged" in second.summary()


def test_a_changed_file_rebuilds_only_the_changed_indexes(schema_db: str, index_path: Path) -> None:
    with database.connect(schema_db) as conn:
        apply_index_file(conn, index_path)
        before = _oids(schema_db)
        text = index_path.read_text()
        text = text.replace(
            "ON tasks (status);", "ON tasks (status) WHERE status <> 'completed';"
        )  # changed
        text = re.sub(r"CREATE INDEX IF NOT EXISTS idx_users_created_at .*\n.*\n", "", text)
        text += "CREATE INDEX IF NOT EXISTS idx_tasks_latency ON tasks (latency_ms);\n"
        index_path.write_text(text)
        report = apply_index_file(conn, index_path)
    after = _oids(schema_db)
    changed = {i.name: i.action for i in report.indexes if i.action != "unchanged"}
    assert changed == {
        "idx_tasks_status": "rebuilt",
        "idx_users_created_at": "dropped",
        "idx_tasks_latency": "created",
    }
    assert after["idx_tasks_status"] != before["idx_tasks_status"]
    assert "idx_users_created_at" not in after
    untouched = set(before) - {"idx_tasks_status", "idx_users_created_at"}
    assert {n: after[n] for n in untouched} == {n: before[n] for n in untouched}


def test_an_error_names_file_line_and_index(schema_db: str, index_path: Path) -> None:
    text = index_path.read_text() + (
        "\n-- a broken one\nCREATE INDEX IF NOT EXISTS idx_broken ON tasks (no_such_column);\n"
    )
    index_path.write_text(text)
    line = text.count("\n", 0, text.index("CREATE INDEX IF NOT EXISTS idx_broken")) + 1
    with database.connect(schema_db) as conn, pytest.raises(SqlFileError) as caught:
        apply_index_file(conn, index_path)
    assert f"{index_path}:{line}: index idx_broken:" in str(caught.value)
    assert "no_such_column" in str(caught.value)


def test_a_failed_concurrent_build_leaves_no_invalid_index(schema_db: str, tmp_path: Path) -> None:
    path = tmp_path / "unique.sql"
    path.write_text(
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_tiers_credits_unique\n"
        "    ON subscription_tiers (monthly_credits);\n"
    )
    with database.connect(schema_db) as conn:
        conn.execute(
            "INSERT INTO subscription_tiers (name, price_cents, monthly_credits) "
            "VALUES ('a', 0, 10), ('b', 1, 10)"
        )
        with pytest.raises(SqlFileError, match=r"unique\.sql:1: index idx_tiers_credits_unique"):
            apply_index_file(conn, path)
        left = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relname = 'idx_tiers_credits_unique'"
        ).fetchone()
    assert left == (0,)


def test_an_invalid_leftover_of_the_same_name_is_rebuilt(schema_db: str, tmp_path: Path) -> None:
    """IF NOT EXISTS alone would keep an INVALID index of that name forever."""
    path = tmp_path / "one.sql"
    path.write_text("CREATE INDEX IF NOT EXISTS idx_one ON users (full_name);\n")
    with database.connect(schema_db) as conn:
        conn.execute(
            "INSERT INTO subscription_tiers (name, price_cents, monthly_credits) "
            "VALUES ('a', 0, 10), ('b', 1, 10)"
        )
        with pytest.raises(Exception, match="could not create unique index"):
            conn.execute(
                "CREATE UNIQUE INDEX CONCURRENTLY idx_one ON subscription_tiers (monthly_credits)"
            )
        report = apply_index_file(conn, path)
        valid = conn.execute(
            "SELECT indisvalid, indrelid::regclass::text FROM pg_index "
            "WHERE indexrelid = 'idx_one'::regclass"
        ).fetchone()
    assert report.count("created") == 1
    assert valid == (True, "users")


@pytest.fixture
def fake_seeded(pg_server: ServerHandle, pgperf_config: Config) -> Iterator[Template]:
    """A small 'seeded template' (schema + hand-made rows), standing in for the seeding stage."""
    name = "pgperf_seed_itest_0123456789abcdef"
    database.drop_database(pg_server, name)
    dsn = database.create_database(pg_server, name)
    with database.connect(dsn) as conn:
        database.apply_schema(conn, pgperf_config.layout.schema_file)
        conn.execute(SMALL_DATA.read_bytes())
    yield Template(name, reused=False, content_hash="0123456789abcdef", seconds=0.0)
    for bench in database.list_owned(pg_server, f"{BENCH.prefix}itest_"):
        database.drop_database(pg_server, bench)
    database.drop_database(pg_server, name)


def _project_copy(root: Path, config: Config) -> Config:
    copy = replace(config, project_root=root, profile="itest")
    copy.layout.sql_dir.mkdir()
    for source, target in (
        (config.layout.schema_file, copy.layout.schema_file),
        (config.layout.index_file, copy.layout.index_file),
        (config.layout.monitoring_file, copy.layout.monitoring_file),
    ):
        shutil.copy(source, target)
    return copy


def test_bench_template_is_reused_then_derived_with_only_the_changes(
    pg_server: ServerHandle,
    pgperf_config: Config,
    fake_seeded: Template,
    tmp_path: Path,
    recording_reporter: Any,
) -> None:
    config = _project_copy(tmp_path, pgperf_config)
    first = ensure_bench_template(pg_server, config, fake_seeded)
    again = ensure_bench_template(pg_server, config, fake_seeded, reporter=recording_reporter)
    assert (first.reused, again.reused, again.name) == (False, True, first.name)
    assert recording_reporter.tasks == []  # a reused template builds no index
    assert recording_reporter.notes == [
        f"reused bench template {again.name} in {again.seconds:.1f}s"
    ]
    before = _oids(pg_server.dsn(first.name))

    path = config.layout.index_file
    path.write_text(
        path.read_text().replace("ON users (created_at);", "ON users (created_at DESC);")
    )
    derived = ensure_bench_template(pg_server, config, fake_seeded, reporter=recording_reporter)

    assert not derived.reused
    (indexes_task,) = recording_reporter.tasks
    assert [line.split()[:2] for line in indexes_task.details] == [
        ["idx_users_created_at", "rebuilt"]
    ]
    assert recording_reporter.notes[-1].startswith(f"built bench template {derived.name} in ")
    assert derived.name != first.name
    assert not database.exists(pg_server, first.name)  # one bench template per profile
    after = _oids(pg_server.dsn(derived.name))
    assert after["idx_users_created_at"] != before["idx_users_created_at"]
    del before["idx_users_created_at"], after["idx_users_created_at"]
    assert after == before  # every other index came over by file copy, not rebuilt
    with database.connect(pg_server.dsn(derived.name)) as conn:
        assert database.read_meta(conn, "bench_seed_hash") == fake_seeded.content_hash
        # A plain-column index needs no new ANALYZE of its table (an expression one would).
        analyzed = conn.execute(
            "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'users'"
        ).fetchone()
        assert analyzed == (None,)
        views = conn.execute("SELECT count(*) FROM mv_provider_daily_stats").fetchone()
    assert views is not None
    assert int(str(views[0])) > 0


def test_a_failed_bench_build_leaves_no_database_behind(
    pg_server: ServerHandle, pgperf_config: Config, fake_seeded: Template, tmp_path: Path
) -> None:
    config = _project_copy(tmp_path, pgperf_config)
    path = config.layout.index_file
    path.write_text(path.read_text() + "CREATE INDEX idx_oops ON tasks (nope);\n")
    with pytest.raises(SqlFileError, match="index idx_oops"):
        ensure_bench_template(pg_server, config, fake_seeded)
    digest = bench_hash(fake_seeded, config)
    assert database.list_owned(pg_server, f"{database.RUN_PREFIX}bench_{digest}_") == []
    assert database.list_owned(pg_server, f"{BENCH.prefix}itest_") == []


def test_only_tables_with_expression_indexes_need_analyze(
    schema_db: str, pgperf_config: Config
) -> None:
    with database.connect(schema_db) as conn:
        apply_index_file(conn, pgperf_config.layout.index_file)
        tables = expression_tables(
            conn, ["idx_tasks_created_month_user", "idx_users_email_lower", "idx_agents_is_public"]
        )
    assert tables == ["public.tasks", "public.users"]
