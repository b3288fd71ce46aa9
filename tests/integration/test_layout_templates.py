"""The one template lifecycle (pgperf.data.templates) and the bench chain, on a real server.

Every kind of template (seeded data; bench = data + indexes) is reused by content hash, built
under a temporary ``pgperf_run_*`` name, renamed only once complete, and pruned per kind and
profile. These tests use profiles of their own, so no template a run relies on is touched.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from pgperf.config import Config
from pgperf.data import database
from pgperf.data.templates import (
    BENCH,
    SEEDED,
    TemplateKind,
    ensure_template,
    is_complete,
    prune,
    read_key,
    templates_of,
)
from pgperf.errors import UnsafeTarget
from pgperf.indexes.template import SEEDED_FROM, bench_hash, ensure_bench_chain
from pgperf.provision import ServerHandle

pytestmark = pytest.mark.integration

#: The lifecycle tests' own profiles (a profile is part of every template name).
PROFILE = "lifecycle"
OTHER_PROFILE = "lifecycle2"
#: The bench chain's profile: the fixtures define it, and its seeded data are small.
CHAIN_PROFILE = "tiny"


def _digest() -> str:
    """A fresh content hash (16 hex digits, as the engine's): no earlier run left its name."""
    return secrets.token_hex(8)


def _drop_templates(server: ServerHandle, *profiles: str) -> None:
    for kind in (SEEDED, BENCH):
        for profile in profiles:
            for name in templates_of(server, kind, profile):
                database.drop_database(server, name)


@pytest.fixture
def server(pg_server: ServerHandle) -> Iterator[ServerHandle]:
    """The session's server, with no template of the lifecycle profiles before or after."""
    _drop_templates(pg_server, PROFILE, OTHER_PROFILE)
    yield pg_server
    _drop_templates(pg_server, PROFILE, OTHER_PROFILE)


def _builds(server: ServerHandle, kind: TemplateKind, digest: str) -> list[str]:
    """Temporary build databases of that kind and content hash."""
    return database.list_owned(server, f"{database.RUN_PREFIX}{kind.label}_{digest}_")


def _tables(dsn: str) -> list[str]:
    with database.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
    return [str(r[0]) for r in rows]


class Recorder:
    """A build function that creates one table, and remembers the databases it built in."""

    def __init__(self, table: str = "built", *, fail: BaseException | None = None) -> None:
        self.table = table
        self.fail = fail
        self.dsns: list[str] = []

    def __call__(self, dsn: str) -> None:
        self.dsns.append(dsn)
        with database.connect(dsn) as conn:
            conn.execute(sql.SQL("CREATE TABLE {} (v int)").format(sql.Identifier(self.table)))
        if self.fail is not None:
            raise self.fail

    @property
    def names(self) -> list[str]:
        """The database names the build ran in."""
        return [str(psycopg.conninfo.conninfo_to_dict(d)["dbname"]) for d in self.dsns]


def _never(dsn: str) -> None:
    pytest.fail(f"the template should have been reused, not built (in {dsn})")


# ---- reuse ---------------------------------------------------------------------------------
def test_a_build_is_renamed_complete_and_the_same_digest_is_reused(
    server: ServerHandle,
) -> None:
    digest = _digest()
    build = Recorder()
    first = ensure_template(server, SEEDED, profile=PROFILE, digest=digest, build=build)

    assert first.name == f"pgperf_seed_{PROFILE}_{digest}" == SEEDED.name(PROFILE, digest)
    assert (first.reused, first.content_hash, first.verb) == (False, digest, "built")
    (built_in,) = build.names
    assert built_in.startswith(f"{database.RUN_PREFIX}seed_{digest}_")  # a temporary name
    assert not database.exists(server, built_in)  # renamed, not copied
    assert is_complete(server, SEEDED, first.name, digest)
    assert read_key(server, first.name, SEEDED.complete_key) == digest
    assert _tables(server.dsn(first.name)) == ["built"]
    assert first.name in database.list_owned(server)  # marked as pgperf's own

    again = ensure_template(server, SEEDED, profile=PROFILE, digest=digest, build=_never)
    assert (again.reused, again.name, again.content_hash, again.verb) == (
        True,
        first.name,
        digest,
        "reused",
    )
    assert _builds(server, SEEDED, digest) == []


def test_another_digest_is_another_template(server: ServerHandle) -> None:
    first, second = _digest(), _digest()
    one = ensure_template(server, SEEDED, profile=PROFILE, digest=first, build=Recorder())
    two = ensure_template(server, SEEDED, profile=PROFILE, digest=second, build=Recorder())
    assert not two.reused
    assert one.name != two.name
    assert not is_complete(server, SEEDED, one.name, second)  # the key holds its own digest
    assert sorted(templates_of(server, SEEDED, PROFILE)) == sorted([one.name, two.name])


def test_a_base_is_cloned_and_asked_for_only_when_a_build_is_needed(
    server: ServerHandle,
) -> None:
    seeded = ensure_template(
        server, SEEDED, profile=PROFILE, digest=_digest(), build=Recorder("seeded_rows")
    )
    asked: list[str] = []

    def base() -> str:
        asked.append(seeded.name)
        return seeded.name

    digest = _digest()
    bench = ensure_template(
        server, BENCH, profile=PROFILE, digest=digest, build=Recorder("indexes"), base=base
    )
    assert bench.name == f"pgperf_bench_{PROFILE}_{digest}"
    assert _tables(server.dsn(bench.name)) == ["indexes", "seeded_rows"]  # a clone, then built
    assert _tables(server.dsn(seeded.name)) == ["seeded_rows"]  # the base is left as it was
    assert is_complete(server, BENCH, bench.name, digest)
    assert read_key(server, bench.name, BENCH.complete_key) == digest
    again = ensure_template(server, BENCH, profile=PROFILE, digest=digest, build=_never, base=base)
    assert again.reused
    assert asked == [seeded.name]  # not asked again for a reused template


# ---- a build that fails ----------------------------------------------------------------------
@pytest.mark.parametrize("failure", [RuntimeError("boom"), KeyboardInterrupt()])
def test_a_build_that_raises_leaves_no_database_behind(
    server: ServerHandle, failure: BaseException
) -> None:
    digest = _digest()
    before = set(database.list_owned(server))
    build = Recorder(fail=failure)
    with pytest.raises(type(failure)):
        ensure_template(server, SEEDED, profile=PROFILE, digest=digest, build=build)
    (built_in,) = build.names
    assert not database.exists(server, built_in)
    assert not database.exists(server, SEEDED.name(PROFILE, digest))
    assert _builds(server, SEEDED, digest) == []
    assert set(database.list_owned(server)) == before


def test_a_failed_build_keeps_the_complete_templates(server: ServerHandle) -> None:
    kept = ensure_template(server, SEEDED, profile=PROFILE, digest=_digest(), build=Recorder())
    with pytest.raises(RuntimeError):
        ensure_template(
            server,
            SEEDED,
            profile=PROFILE,
            digest=_digest(),
            build=Recorder(fail=RuntimeError("boom")),
        )
    assert templates_of(server, SEEDED, PROFILE) == [kept.name]
    assert is_complete(server, SEEDED, kept.name, kept.content_hash)


# ---- an incomplete database of the final name -----------------------------------------------
@pytest.mark.parametrize("key", [None, "interrupted"], ids=["no-key", "another-digest"])
def test_an_incomplete_database_of_the_final_name_is_rebuilt(
    server: ServerHandle, key: str | None
) -> None:
    digest = _digest()
    name = SEEDED.name(PROFILE, digest)
    dsn = database.create_database(server, name)
    with database.connect(dsn) as conn:
        conn.execute("CREATE TABLE half_loaded (v int)")
        if key is not None:
            database.write_meta(conn, SEEDED.complete_key, key)
    assert not is_complete(server, SEEDED, name, digest)

    build = Recorder()
    rebuilt = ensure_template(server, SEEDED, profile=PROFILE, digest=digest, build=build)
    assert (rebuilt.name, rebuilt.reused) == (name, False)
    assert len(build.dsns) == 1
    assert _tables(server.dsn(name)) == ["built"]  # the leftover is gone, not built upon
    assert is_complete(server, SEEDED, name, digest)


def test_a_database_of_the_final_name_that_pgperf_did_not_create_is_refused(
    server: ServerHandle,
) -> None:
    digest = _digest()
    name = SEEDED.name(PROFILE, digest)
    with psycopg.connect(server.conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with pytest.raises(UnsafeTarget, match="did not create"):
            ensure_template(server, SEEDED, profile=PROFILE, digest=digest, build=_never)
        assert database.exists(server, name)  # left alone
        assert _builds(server, SEEDED, digest) == []
    finally:
        with psycopg.connect(server.conninfo, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# ---- prune -----------------------------------------------------------------------------------
def _make(server: ServerHandle, kind: TemplateKind, profile: str) -> str:
    return ensure_template(server, kind, profile=profile, digest=_digest(), build=Recorder()).name


def test_prune_keeps_only_the_named_templates_of_that_kind_and_profile(
    server: ServerHandle,
) -> None:
    seeded = [_make(server, SEEDED, PROFILE) for _ in range(3)]
    bench = _make(server, BENCH, PROFILE)
    other_profile = _make(server, SEEDED, OTHER_PROFILE)
    with database.scratch_database(server, label="prune") as run:
        prune(server, SEEDED, PROFILE, keep={seeded[1]})

        assert templates_of(server, SEEDED, PROFILE) == [seeded[1]]
        assert not database.exists(server, seeded[0])
        assert not database.exists(server, seeded[2])
        # Another kind, another profile and a run's database are not prune's business.
        assert templates_of(server, BENCH, PROFILE) == [bench]
        assert templates_of(server, SEEDED, OTHER_PROFILE) == [other_profile]
        assert run in [server.dsn(n) for n in database.list_owned(server, database.RUN_PREFIX)]

    prune(server, SEEDED, PROFILE, keep=())
    assert templates_of(server, SEEDED, PROFILE) == []
    assert templates_of(server, BENCH, PROFILE) == [bench]


def test_prune_leaves_a_profile_whose_name_extends_this_one_alone(
    server: ServerHandle,
) -> None:
    longer = f"{PROFILE}_x"  # a valid profile name (lowercase letters, digits and _)
    try:
        theirs = _make(server, SEEDED, longer)
        ours = _make(server, SEEDED, PROFILE)
        assert templates_of(server, SEEDED, PROFILE) == [ours]
        prune(server, SEEDED, PROFILE, keep={ours})
        assert database.exists(server, theirs)
    finally:
        _drop_templates(server, longer)


# ---- the bench chain -------------------------------------------------------------------------
def _project_copy(root: Path, config: Config) -> Config:
    """The project's schema, indexes, monitoring and generators under ``root`` (editable)."""
    copy = replace(config, project_root=root, profile=CHAIN_PROFILE, seed=42)
    copy.layout.sql_dir.mkdir()
    for name in ("schema_file", "index_file", "monitoring_file"):
        shutil.copy(getattr(config.layout, name), getattr(copy.layout, name))
    shutil.copytree(
        config.layout.fixtures_dir,
        copy.layout.fixtures_dir,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return copy


@pytest.fixture
def chain_config(
    pg_server: ServerHandle, pgperf_config: Config, tmp_path: Path
) -> Iterator[Config]:
    """A copy of the project on the chain's profile; its bench templates are dropped after."""
    from pgperf.data.generators import load_generators

    before = set(templates_of(pg_server, BENCH, CHAIN_PROFILE))
    yield _project_copy(tmp_path, pgperf_config)
    for name in set(templates_of(pg_server, BENCH, CHAIN_PROFILE)) - before:
        database.drop_database(pg_server, name)
    load_generators(pgperf_config.layout.fixtures_dir)  # the real generators for other tests


def _index_names(server: ServerHandle, name: str) -> set[str]:
    with database.connect(server.dsn(name)) as conn:
        rows = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
            "AND indexname LIKE 'idx\\_%'"
        ).fetchall()
    return {str(r[0]) for r in rows}


def _count(server: ServerHandle, name: str, table: str) -> int:
    with database.connect(server.dsn(name)) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        ).fetchone()
    assert row is not None
    return int(str(row[0]))


def _edit_indexes(config: Config, change: Callable[[str], str]) -> None:
    path = config.layout.index_file
    path.write_text(change(path.read_text()))


def test_bench_chain_gives_a_seeded_and_a_bench_template(
    pg_server: ServerHandle, chain_config: Config
) -> None:
    chain = ensure_bench_chain(pg_server, chain_config)
    seeded, bench = chain.seeded, chain.bench

    assert seeded.name == SEEDED.name(CHAIN_PROFILE, seeded.content_hash)
    assert bench.name == BENCH.name(CHAIN_PROFILE, bench.content_hash)
    assert bench.content_hash == bench_hash(seeded, chain_config)
    assert is_complete(pg_server, SEEDED, seeded.name, seeded.content_hash)
    assert is_complete(pg_server, BENCH, bench.name, bench.content_hash)
    assert read_key(pg_server, bench.name, SEEDED_FROM) == seeded.content_hash
    # The bench template is the seeded data plus the performance indexes and monitoring.
    assert _index_names(pg_server, seeded.name) == set()
    assert "idx_tasks_user_created" in _index_names(pg_server, bench.name)
    assert _count(pg_server, bench.name, "tasks") == _count(pg_server, seeded.name, "tasks") > 0
    assert _count(pg_server, bench.name, "mv_provider_daily_stats") > 0

    again = ensure_bench_chain(pg_server, chain_config)
    assert (again.seeded.reused, again.bench.reused) == (True, True)
    assert (again.seeded.name, again.bench.name) == (seeded.name, bench.name)


def test_keep_protects_a_second_bench_template_of_the_profile_from_pruning(
    pg_server: ServerHandle, chain_config: Config
) -> None:
    arm_a = ensure_bench_chain(pg_server, chain_config).bench
    _edit_indexes(chain_config, lambda text: text.replace(
        "ON users (created_at);", "ON users (created_at DESC);"
    ))  # fmt: skip
    # An A/B run holds one bench template per arm: B's build must not prune A's.
    chain_b = ensure_bench_chain(pg_server, chain_config, keep={arm_a.name})
    arm_b = chain_b.bench
    assert chain_b.seeded.reused  # only the indexes changed
    assert not arm_b.reused
    assert arm_b.name != arm_a.name
    assert sorted(templates_of(pg_server, BENCH, CHAIN_PROFILE)) == sorted([arm_a.name, arm_b.name])
    assert is_complete(pg_server, BENCH, arm_a.name, arm_a.content_hash)

    # Without keep=, one bench template per profile: the next build prunes both arms.
    _edit_indexes(chain_config, lambda text: text.replace(
        "ON users (created_at DESC);", "ON users (created_at DESC NULLS LAST);"
    ))  # fmt: skip
    alone = ensure_bench_chain(pg_server, chain_config).bench
    assert templates_of(pg_server, BENCH, CHAIN_PROFILE) == [alone.name]
    assert not database.exists(pg_server, arm_a.name)
    assert not database.exists(pg_server, arm_b.name)
