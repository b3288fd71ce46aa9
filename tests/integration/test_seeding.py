"""Seeding into a real PostgreSQL: integrity, volumes, shapes, determinism and template reuse."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg import sql

from pgperf.config import Config
from pgperf.data import database
from pgperf.data.generators import SeedPlan, TableLoad, load_generators
from pgperf.data.seeding import ensure_seeded_template, seed_database
from pgperf.data.templates import SEEDED, Template
from pgperf.errors import SeedError
from pgperf.progress import QuietReporter
from pgperf.provision import ServerHandle

pytestmark = pytest.mark.integration

#: A seeding's build runs under a run-style name, so a killed build is dropped like a stale run.
BUILD_PREFIX = f"{database.RUN_PREFIX}{SEEDED.label}_"

TABLES = (
    "subscription_tiers", "ai_providers", "provider_models", "agent_categories", "users",
    "agents", "campaigns", "tasks", "generated_content", "credit_ledger",
)  # fmt: skip
#: The skew floor: the top 1% of users own at least this share of the tasks (evenly spread
#: activity gives them about 3%; the ci data give them about 29%).
TOP_PERCENT_SHARE_FLOOR = 0.25
#: Every row that refers to another in time, and the rows breaking that order (must be none).
TIME_ORDER = {
    "reference rows predate the first sign-up": "SELECT count(*) FROM users u "
    "WHERE u.created_at < (SELECT max(created_at) FROM subscription_tiers) "
    "OR u.created_at < (SELECT max(created_at) FROM ai_providers) "
    "OR u.created_at < (SELECT max(created_at) FROM provider_models)",
    "agents come after their owner signed up": "SELECT count(*) FROM agents a "
    "JOIN users u ON u.id = a.user_id WHERE a.created_at < u.created_at",
    "campaigns come after their owner signed up": "SELECT count(*) FROM campaigns c "
    "JOIN users u ON u.id = c.user_id WHERE c.created_at < u.created_at",
    "tasks come after the user signed up": "SELECT count(*) FROM tasks t "
    "JOIN users u ON u.id = t.user_id WHERE t.created_at < u.created_at",
    "tasks come after their agent was created": "SELECT count(*) FROM tasks t "
    "JOIN agents a ON a.id = t.agent_id WHERE t.created_at < a.created_at",
    "tasks come after their campaign was created": "SELECT count(*) FROM tasks t "
    "JOIN campaigns c ON c.id = t.campaign_id WHERE t.created_at < c.created_at",
    "campaign tasks fall in the campaign's window": "SELECT count(*) FROM tasks t "
    "JOIN campaigns c ON c.id = t.campaign_id "
    "WHERE t.created_at < c.starts_at OR t.created_at > c.ends_at",
    "content comes after its task completed": "SELECT count(*) FROM generated_content g "
    "JOIN tasks t ON t.id = g.task_id WHERE g.created_at < t.completed_at",
    "a charge follows its task's completion within a minute": "SELECT count(*) "
    "FROM credit_ledger l JOIN tasks t ON t.id = l.task_id WHERE l.user_id <> t.user_id "
    "OR l.created_at NOT BETWEEN t.completed_at AND t.completed_at + interval '1 minute'",
    "ledger entries come after the user signed up": "SELECT count(*) FROM credit_ledger l "
    "JOIN users u ON u.id = l.user_id WHERE l.created_at < u.created_at",
    "the last login follows the user's last task, agent, campaign and purchase": "WITH seen AS "
    "(SELECT user_id, created_at FROM tasks UNION ALL SELECT user_id, created_at FROM agents "
    "UNION ALL SELECT user_id, created_at FROM campaigns UNION ALL SELECT user_id, created_at "
    "FROM credit_ledger WHERE reason = 'purchase'), last AS (SELECT user_id, max(created_at) "
    "AS at FROM seen GROUP BY user_id) SELECT count(*) FROM users u JOIN last ON "
    "last.user_id = u.id WHERE u.last_login_at IS NULL OR u.last_login_at < last.at",
    "nothing happened after data_now": "SELECT count(*) FROM (SELECT created_at FROM users "
    "UNION ALL SELECT last_login_at FROM users UNION ALL SELECT updated_at FROM agents "
    "UNION ALL SELECT created_at FROM campaigns UNION ALL SELECT completed_at FROM tasks "
    "UNION ALL SELECT created_at FROM generated_content "
    "UNION ALL SELECT created_at FROM credit_ledger) AS e(at), pgperf.meta m "
    "WHERE m.key = 'data_now' AND e.at > m.value::timestamptz",
}


@pytest.fixture(scope="module")
def ci_config(pgperf_config: Config) -> Config:
    """The run's configuration on the ci profile with the standard seed."""
    return replace(pgperf_config, profile="ci", seed=42)


@pytest.fixture(scope="module")
def ci_template(pg_server: ServerHandle, ci_config: Config) -> Template:
    """The ci template (seeded once, reused on a cached cluster)."""
    return ensure_seeded_template(pg_server, ci_config)


@pytest.fixture(scope="module")
def ci(pg_server: ServerHandle, ci_template: Template) -> Iterator[database.Connection]:
    """A connection to a clone of the ci template (cloning drops connections to the template)."""
    with (
        database.scratch_database(pg_server, template=ci_template.name, label="ci") as dsn,
        database.connect(dsn) as conn,
    ):
        yield conn


def _one(conn: database.Connection, query: str, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _checksums(conn: database.Connection) -> dict[str, str]:
    return {
        table: str(
            _one(
                conn,
                sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {} AS t").format(
                    sql.Identifier(table)
                ),
            )
        )
        for table in TABLES
    }


def _seed_scratch(server: ServerHandle, config: Config, seed: int) -> dict[str, str]:
    generators = load_generators(config.layout.fixtures_dir)
    with database.scratch_database(server, label="det") as dsn:
        seed_database(
            dsn,
            config.layout.schema_file,
            generators.seed_plan("tiny", seed),
            reporter=QuietReporter(),
            validate_foreign_keys=True,
        )
        with database.connect(dsn) as conn:
            return _checksums(conn)


# ---- volumes and integrity ---------------------------------------------------------------
def test_ci_row_counts_match_the_profile(ci: database.Connection, ci_config: Config) -> None:
    load_generators(ci_config.layout.fixtures_dir)
    from pgperf_fixtures import profiles  # type: ignore[import-not-found]

    expected = profiles.expected_rows(profiles.load_profile("ci"))
    for table in TABLES:
        actual = _one(ci, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        exact = table not in ("generated_content", "credit_ledger")
        tolerance = 0 if exact else 0.1
        assert actual == pytest.approx(expected[table], rel=tolerance), table


def test_every_foreign_key_points_at_a_row(ci: database.Connection) -> None:
    keys = ci.execute(
        "SELECT conrelid::regclass::text, a.attname, confrelid::regclass::text, f.attname "
        "FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = c.confkey[1] "
        "WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace"
    ).fetchall()
    assert len(keys) == 16
    for table, column, parent, key in keys:
        orphans = _one(
            ci,
            sql.SQL(
                "SELECT count(*) FROM {t} AS c WHERE c.{col} IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM {p} AS p WHERE p.{key} = c.{col})"
            ).format(
                t=sql.Identifier(table),
                col=sql.Identifier(column),
                p=sql.Identifier(parent),
                key=sql.Identifier(key),
            ),
        )
        assert orphans == 0, f"{table}.{column} -> {parent}.{key}"


def test_references_agree_across_tables(ci: database.Connection) -> None:
    checks = {
        "task provider is its model's provider": "SELECT count(*) FROM tasks t "
        "JOIN provider_models m ON m.id = t.provider_model_id WHERE m.provider_id <> t.provider_id",
        "content belongs to its task's user": "SELECT count(*) FROM generated_content g "
        "JOIN tasks t ON t.id = g.task_id WHERE g.user_id <> t.user_id "
        "OR g.campaign_id IS DISTINCT FROM t.campaign_id OR t.status <> 'completed'",
        "campaign tasks use the user's own campaign": "SELECT count(*) FROM tasks t "
        "JOIN campaigns c ON c.id = t.campaign_id WHERE c.user_id <> t.user_id",
        "a charge equals the task's credits": "SELECT count(*) FROM credit_ledger l "
        "JOIN tasks t ON t.id = l.task_id WHERE l.delta <> -t.credits_used",
        "a model is only used from its tier up": "SELECT count(*) FROM tasks t "
        "JOIN users u ON u.id = t.user_id JOIN provider_models m ON m.id = t.provider_model_id "
        "WHERE m.min_tier_id > u.subscription_tier_id",
    }
    for label, query in checks.items():
        assert _one(ci, query) == 0, label


@pytest.mark.parametrize("label", list(TIME_ORDER))
def test_rows_refer_only_to_earlier_rows(ci: database.Connection, label: str) -> None:
    assert _one(ci, TIME_ORDER[label]) == 0, label


def test_campaigns_and_agents_are_linked_to_tasks(ci: database.Connection) -> None:
    # The time checks above must not pass because links were dropped: the mix holds.
    row = ci.execute(
        "SELECT avg((campaign_id IS NOT NULL)::int), avg((agent_id IS NOT NULL)::int), "
        "avg((source = 'campaign')::int) FROM tasks"
    ).fetchone()
    assert row is not None
    campaign_share, agent_share, campaign_source = row
    assert 0.08 < campaign_share < 0.12
    assert 0.15 < agent_share < 0.25
    assert campaign_source == campaign_share


def test_identity_sequences_continue_after_the_seeded_ids(
    pg_server: ServerHandle, ci_template: Template
) -> None:
    with (
        database.scratch_database(pg_server, template=ci_template.name, label="ident") as dsn,
        database.connect(dsn) as conn,
    ):
        top = _one(conn, "SELECT max(id) FROM tasks")
        new = _one(
            conn,
            "INSERT INTO tasks (user_id, provider_model_id, provider_id, task_type, source,"
            " request_payload) VALUES (1, 1, 1, 'text_generation', 'api', '{}') RETURNING id",
        )
    assert new == top + 1


# ---- shapes --------------------------------------------------------------------------------
def test_status_mix_is_mostly_completed_with_a_recent_live_share(ci: database.Connection) -> None:
    shares = dict(
        ci.execute(
            "SELECT status::text, count(*)::float / sum(count(*)) OVER () FROM tasks GROUP BY 1"
        ).fetchall()
    )
    assert set(shares) == {"pending", "queued", "running", "completed", "failed", "cancelled"}
    assert shares["completed"] > 0.9
    assert 0.02 < shares["failed"] < 0.06
    assert 0.005 < shares["cancelled"] < 0.03
    live = shares["pending"] + shares["queued"] + shares["running"]
    assert 0 < live < 0.001
    oldest_live = _one(
        ci,
        "SELECT max(m.value::timestamptz - t.created_at) FROM tasks t, pgperf.meta m "
        "WHERE m.key = 'data_now' AND t.status IN ('pending', 'queued', 'running')",
    )
    assert oldest_live.total_seconds() < 6 * 3600


def test_every_enum_value_occurs_in_the_data(ci: database.Connection) -> None:
    labels: dict[str, set[str]] = {}
    for type_name, label in ci.execute(
        "SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
    ).fetchall():
        labels.setdefault(type_name, set()).add(label)
    seen: dict[str, set[str]] = {name: set() for name in labels}
    columns = ci.execute(
        "SELECT table_name, column_name, udt_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND data_type = 'USER-DEFINED'"
    ).fetchall()
    for table, column, type_name in columns:
        values = ci.execute(
            sql.SQL("SELECT DISTINCT {}::text FROM {}").format(
                sql.Identifier(column), sql.Identifier(table)
            )
        ).fetchall()
        seen[type_name] |= {v for (v,) in values}
    assert seen == labels


def test_data_now_is_recorded_and_bounds_the_data(ci: database.Connection) -> None:
    data_now = _one(ci, "SELECT value::timestamptz FROM pgperf.meta WHERE key = 'data_now'")
    assert data_now.isoformat() == "2026-11-19T15:00:00+00:00"
    newest = _one(ci, "SELECT max(greatest(created_at, completed_at)) FROM tasks")
    assert data_now - newest < timedelta(hours=1)
    span = _one(ci, "SELECT max(created_at) - min(created_at) FROM tasks")
    assert 520 < span.days < 560  # about 18 months


def test_latency_is_the_time_between_start_and_end(ci: database.Connection) -> None:
    mismatched = _one(
        ci,
        "SELECT count(*) FROM tasks WHERE completed_at IS NOT NULL AND latency_ms <> "
        "round(extract(epoch FROM completed_at - started_at) * 1000)",
    )
    assert mismatched == 0


def test_skew_top_percent_of_users_own_a_large_share(ci: database.Connection) -> None:
    share = _one(
        ci,
        "WITH c AS (SELECT count(*) AS n FROM tasks GROUP BY user_id), "
        "r AS (SELECT n, row_number() OVER (ORDER BY n DESC) AS rank FROM c) "
        "SELECT sum(n) FILTER (WHERE rank <= (SELECT count(*) / 100 FROM users))::float "
        "/ sum(n) FROM r",
    )
    assert share > TOP_PERCENT_SHARE_FLOOR


def test_heavy_user_is_busy_but_not_the_whole_platform(ci: database.Connection) -> None:
    row = ci.execute(
        "WITH c AS (SELECT user_id, count(*) AS n FROM tasks GROUP BY user_id) "
        "SELECT max(n), percentile_disc(0.5) WITHIN GROUP (ORDER BY n), sum(n) FROM c"
    ).fetchone()
    assert row is not None
    heavy, median, total = row
    # A SaaS heavy user: hundreds of times the median user, yet a few percent of all tasks.
    assert median >= 5
    assert 100 <= heavy / median <= 1000
    assert heavy / total < 0.03


def test_personas_are_heavy_median_and_cold(ci: database.Connection) -> None:
    personas = dict(ci.execute("SELECT persona, user_id FROM pgperf.personas").fetchall())
    assert set(personas) == {"heavy", "median", "cold"}
    counts = dict(ci.execute("SELECT user_id, count(*) FROM tasks GROUP BY 1").fetchall())
    recent = {
        user
        for (user,) in ci.execute(
            "SELECT DISTINCT t.user_id FROM tasks t, pgperf.meta m WHERE m.key = 'data_now' "
            "AND t.created_at > m.value::timestamptz - interval '30 days'"
        ).fetchall()
    }
    ordered = sorted(counts.values())
    assert counts[personas["heavy"]] == ordered[-1]
    # The median of the users active in the last 30 days: the ones who open a dashboard.
    ordered_recent = sorted(counts[u] for u in recent)
    assert personas["median"] in recent
    assert counts[personas["median"]] == ordered_recent[(len(ordered_recent) - 1) // 2]
    assert personas["cold"] not in counts
    assert _one(ci, "SELECT is_active FROM users WHERE id = %s", [personas["cold"]]) is True


def test_task_json_has_the_platform_keys(ci: database.Connection) -> None:
    bad_payload = _one(
        ci,
        "SELECT count(*) FROM tasks t JOIN provider_models m ON m.id = t.provider_model_id "
        "WHERE t.request_payload->>'model' <> m.name "
        "OR NOT (t.request_payload ?| ARRAY['prompt', 'input'])",
    )
    assert bad_payload == 0
    bad_usage = _one(
        ci,
        "SELECT count(*) FROM tasks WHERE status = 'completed' AND "
        "(response_metadata->'usage'->>'input_tokens')::int <> input_tokens",
    )
    assert bad_usage == 0
    bad_error = _one(
        ci,
        "SELECT count(*) FROM tasks WHERE (status = 'failed') <> "
        "coalesce(response_metadata->'error'->>'code' = error_code, false)",
    )
    assert bad_error == 0
    varied = _one(
        ci,
        "SELECT count(DISTINCT k) FROM tasks, jsonb_object_keys(request_payload) AS k",
    )
    assert varied >= 12
    shares = ci.execute(
        "SELECT avg((request_payload ? 'tools')::int), avg((request_payload ? 'images')::int) "
        "FROM tasks WHERE task_type = 'text_generation'"
    ).fetchone()
    assert shares is not None
    assert 0.1 < shares[0] < 0.5
    assert 0.02 < shares[1] < 0.2


def test_agent_and_campaign_json_shapes(ci: database.Connection) -> None:
    assert (
        _one(
            ci,
            "SELECT count(*) FROM agents WHERE NOT configuration ?& "
            "ARRAY['model', 'system_prompt', 'tools', 'temperature']",
        )
        == 0
    )
    assert (
        _one(
            ci,
            "SELECT count(*) FROM campaigns WHERE status NOT IN ('draft', 'scheduled') AND NOT "
            "metrics ?& ARRAY['impressions', 'clicks', 'conversions', 'spend_cents', 'channels']",
        )
        == 0
    )
    assert (
        _one(
            ci, "SELECT count(*) FROM campaigns WHERE jsonb_typeof(metrics->'channels') = 'object'"
        )
        > 0
    )


def test_marketplace_is_a_minority_with_long_tails(ci: database.Connection) -> None:
    row = ci.execute(
        "SELECT avg((is_public AND status = 'active')::int), "
        "max(usage_count) FILTER (WHERE is_public), "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY usage_count) FILTER (WHERE is_public) "
        "FROM agents"
    ).fetchone()
    assert row is not None
    market_share, top_usage, median_usage = row
    assert 0.03 < market_share < 0.3
    assert top_usage > 20 * median_usage
    downloads = ci.execute(
        "SELECT max(downloads), percentile_cont(0.5) WITHIN GROUP (ORDER BY downloads), "
        "avg(is_public::int) FROM generated_content WHERE is_public"
    ).fetchone()
    assert downloads is not None
    assert downloads[0] > 50 * max(downloads[1], 1)


def test_emails_are_unique_and_names_varied(ci: database.Connection) -> None:
    row = ci.execute(
        "SELECT count(DISTINCT lower(email)) = count(*), count(DISTINCT full_name) FROM users"
    ).fetchone()
    assert row is not None
    assert row[0] is True
    assert row[1] > 1000


# ---- determinism and constraints -----------------------------------------------------------
def test_same_seed_gives_identical_tables(pg_server: ServerHandle, ci_config: Config) -> None:
    first = _seed_scratch(pg_server, ci_config, seed=11)
    second = _seed_scratch(pg_server, ci_config, seed=11)
    assert first == second
    other = _seed_scratch(pg_server, ci_config, seed=12)
    assert other["tasks"] != first["tasks"]


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**31 - 1))
def test_any_seed_loads_within_every_constraint(
    pg_server: ServerHandle, ci_config: Config, seed: int
) -> None:
    # validate_foreign_keys: the keys are re-added, so PostgreSQL checks every reference too.
    checksums = _seed_scratch(pg_server, ci_config, seed=seed)
    assert set(checksums) == set(TABLES)


def test_a_row_breaking_a_constraint_names_the_table(
    pg_server: ServerHandle, ci_config: Config
) -> None:
    plan = SeedPlan(
        tables=(
            TableLoad(
                "subscription_tiers",
                ("id", "name", "price_cents", "monthly_credits"),
                1,
                lambda: iter([(1, "1\tfree\t-5\t0\n")]),
            ),
        )
    )
    with database.scratch_database(pg_server, label="bad") as dsn:
        with pytest.raises(SeedError, match=r"loading table 'subscription_tiers' failed.*check"):
            seed_database(dsn, ci_config.layout.schema_file, plan, reporter=QuietReporter())
        with database.connect(dsn) as conn:
            # The whole load was one transaction: not even the schema is left behind.
            assert _one(conn, "SELECT to_regclass('public.users')") is None


def test_a_failed_load_stops_formatting_the_tables_after_it(
    pg_server: ServerHandle, ci_config: Config
) -> None:
    formatted: list[int] = []

    def many() -> Iterator[tuple[int, str]]:
        for i in range(10_000):
            formatted.append(i)
            yield 1, f"{i + 10}\ttier{i}\t0\t0\n"

    columns = ("id", "name", "price_cents", "monthly_credits")
    plan = SeedPlan(
        tables=(
            TableLoad("subscription_tiers", columns, 1, lambda: iter([(1, "1\tfree\t-5\t0\n")])),
            TableLoad("subscription_tiers", columns, 10_000, many),
        )
    )
    with database.scratch_database(pg_server, label="stop") as dsn, pytest.raises(SeedError):
        seed_database(dsn, ci_config.layout.schema_file, plan, reporter=QuietReporter())
    # Chunks are formatted only a few ahead of the COPY; a failure stops the formatting.
    assert len(formatted) < 100


# ---- template reuse ------------------------------------------------------------------------
def test_second_call_reuses_the_template(
    pg_server: ServerHandle, ci_config: Config, ci_template: Template, recording_reporter: Any
) -> None:
    again = ensure_seeded_template(pg_server, ci_config, reporter=recording_reporter)
    assert again.reused
    assert again.name == ci_template.name
    assert again.content_hash == ci_template.content_hash
    assert again.seconds < 5
    assert recording_reporter.tasks == []  # nothing was seeded
    assert recording_reporter.notes == [f"reused template {again.name} in {again.seconds:.1f}s"]


@pytest.mark.parametrize("validate", [False, True])
def test_seeding_reports_every_table_as_a_task(
    pg_server: ServerHandle, ci_config: Config, recording_reporter: Any, validate: bool
) -> None:
    plan = load_generators(ci_config.layout.fixtures_dir).seed_plan("tiny", 5)
    with database.scratch_database(pg_server, label="report") as dsn:
        counts = seed_database(
            dsn,
            ci_config.layout.schema_file,
            plan,
            reporter=recording_reporter,
            validate_foreign_keys=validate,
        )
        with database.connect(dsn) as conn:
            superuser = _one(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    tasks = recording_reporter.tasks
    assert [t.label for t in tasks] == [f"seed {load.table}" for load in plan.tables]
    for task, load in zip(tasks, plan.tables, strict=True):
        assert (task.total, task.unit, task.rate, task.ended) == (
            load.expected_rows,
            "rows",
            True,  # rows per second is worth showing for a table load
            True,
        )
        assert task.done == counts[load.table] > 0
    phases = [note.rsplit(" in ", 1)[0] for note in recording_reporter.notes]
    # As superuser the keys stay (their triggers skipped); otherwise they are re-added.
    keys = [] if superuser and not validate else ["foreign keys re-added and validated"]
    assert phases == [*keys, "identities and after-load SQL", "VACUUM (ANALYZE)"]


def test_an_unfinished_template_is_rebuilt(pg_server: ServerHandle, ci_config: Config) -> None:
    tiny = replace(ci_config, profile="tiny")
    built = ensure_seeded_template(pg_server, tiny)
    with pg_server.connect(built.name) as conn:
        database.write_meta(conn, "seed_hash", "interrupted")
    rebuilt = ensure_seeded_template(pg_server, tiny)
    assert not rebuilt.reused
    with pg_server.connect(rebuilt.name) as conn:
        assert database.read_meta(conn, "seed_hash") == rebuilt.content_hash


def _interrupting_project(tmp_path: Path, source: Config) -> Config:
    config = replace(source, project_root=tmp_path, profile="tiny")
    config.layout.sql_dir.mkdir()
    shutil.copy(source.layout.schema_file, config.layout.schema_file)
    config.layout.fixtures_dir.mkdir()
    (config.layout.fixtures_dir / "__init__.py").write_text(
        "from pgperf.data.generators import SeedPlan, TableLoad\n"
        "def profile_names():\n    return ['tiny']\n"
        "def fingerprint():\n    return 'interrupt-test'\n"
        "def _chunks():\n"
        "    yield 1, '1\\tfree\\t0\\t0\\n'\n"
        "    raise KeyboardInterrupt\n"
        "def seed_plan(profile, seed):\n"
        "    cols = ('id', 'name', 'price_cents', 'monthly_credits')\n"
        "    return SeedPlan(tables=(TableLoad('subscription_tiers', cols, 2, _chunks),))\n"
    )
    return config


def test_ctrl_c_mid_seed_leaves_no_template(
    pg_server: ServerHandle, ci_config: Config, tmp_path: Path
) -> None:
    config = _interrupting_project(tmp_path, ci_config)
    before = set(database.list_owned(pg_server))
    try:
        with pytest.raises(KeyboardInterrupt):
            ensure_seeded_template(pg_server, config)
    finally:
        load_generators(ci_config.layout.fixtures_dir)  # the real generators for the other tests
    after = set(database.list_owned(pg_server))
    assert after == before, "an interrupted seeding must leave no database behind"
    assert not [n for n in after if n.startswith(BUILD_PREFIX)]


def _seed_command(*server_args: str) -> list[str]:
    return ["seed", "--profile", "tiny", *server_args]


def test_cli_seed_on_a_dsn_server_prints_the_template_s_dsn(
    pg_server: ServerHandle, ci_config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    from pgperf.commands.cli import main

    assert main(_seed_command("--dsn", pg_server.conninfo)) == 0
    out = capsys.readouterr().out
    assert out.startswith(("seeded pgperf_seed_tiny_", "reused pgperf_seed_tiny_"))
    assert "(profile tiny, seed 42)" in out
    assert "DSN: " in out
    dsn = out.split("DSN: ", 1)[1].strip().splitlines()[0]
    name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    assert isinstance(name, str)
    assert name == out.split()[1]
    assert name.startswith("pgperf_seed_tiny_")
    # The template is on the server the DSN named, complete, holding seeded rows.
    tiny = replace(ci_config, profile="tiny")
    again = ensure_seeded_template(pg_server, tiny)
    assert (again.reused, again.name) == (True, name)
    with database.connect(dsn) as conn:
        assert _one(conn, "SELECT count(*) FROM users") > 0


def test_cli_seed_on_a_throwaway_server_says_the_template_goes_with_it(
    ci_config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    from pgperf.commands.cli import main

    if ci_config.backend == "dsn":
        pytest.skip("a dsn session has no server of its own to throw away")
    backend = "local" if ci_config.backend == "auto" else ci_config.backend
    code = main(_seed_command("--backend", backend, "--pg-cache-dir", "off"))
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("seeded pgperf_seed_tiny_")  # a fresh server holds no template
    assert "this server is a throwaway one; the template is gone with it" in out
    assert "DSN: " not in out  # a DSN of a server that already stopped would be a lie
