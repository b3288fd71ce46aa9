"""Evidence beyond shared buffers, on a real server: WAL under wal_level=minimal, spills, the
result digest and the census of users' plans (pgperf.measure.explain, .digest, .census)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pgperf.data import database
from pgperf.measure import census, explain
from pgperf.measure.catalog import load_query
from pgperf.measure.digest import digest
from pgperf.measure.params import MeasureError
from pgperf.provision import ServerHandle

pytestmark = pytest.mark.integration

POPULATION = "SELECT id AS user_id, 1 + sqrt(id) AS weight FROM u ORDER BY id"
RECENT = (
    '-- pgperf: {"params": {"user_id": "persona"}, "indexes": ["t_user_created"]}\n'
    "SELECT id, created_at FROM t WHERE user_id = %(user_id)s ORDER BY created_at DESC LIMIT 20"
)


@pytest.fixture
def conn(pg_server: ServerHandle) -> Iterator[database.Connection]:
    """A scratch database: 2,000 users, 60,000 tasks, an index on (user_id, created_at)."""
    with (
        database.scratch_database(pg_server, label="evidence") as dsn,
        database.connect(dsn) as connection,
    ):
        connection.execute("CREATE TABLE u (id int PRIMARY KEY)")
        connection.execute("INSERT INTO u SELECT generate_series(1, 2000)")
        connection.execute(
            "CREATE TABLE t (id bigserial PRIMARY KEY, user_id int NOT NULL, "
            "created_at timestamptz NOT NULL)"
        )
        connection.execute(
            "INSERT INTO t (user_id, created_at) SELECT g % 2000 + 1, "
            "'2026-01-01'::timestamptz - g * interval '1 minute' "
            "FROM generate_series(1, 60000) g"
        )
        connection.execute("CREATE INDEX t_user_created ON t (user_id, created_at DESC)")
        connection.execute("ANALYZE")
        yield connection


def _insert_wal(conn: database.Connection, table: str) -> tuple[int | None, int | None]:
    text = f"INSERT INTO {table} (user_id, created_at) VALUES (%(u)s, now())"
    facts = explain.explain(conn, text, {"u": 7}, mode="custom", wal=True)
    return facts.wal_records, facts.wal_bytes


def test_a_write_into_an_existing_table_logs_wal_under_wal_level_minimal(
    conn: database.Connection,
) -> None:
    assert conn.execute("SHOW wal_level").fetchone() == ("minimal",)
    with conn.transaction(force_rollback=True):
        records, size = _insert_wal(conn, "t")
    # The heap tuple and one entry in each of the two indexes.
    assert records is not None
    assert records >= 3
    assert size
    # A committed index more: one more entry to log. (An index built in the same transaction
    # would skip WAL like any relation new in it.)
    conn.execute("CREATE INDEX t_more ON t (created_at)")
    with conn.transaction(force_rollback=True):
        more_records, more_size = _insert_wal(conn, "t")
    assert more_records == records + 1
    assert more_size is not None
    assert more_size > size
    assert explain.table_indexes(conn, ["t"]) == {"t": ("t_more", "t_pkey", "t_user_created")}


def test_only_a_table_created_in_the_same_transaction_skips_wal(conn: database.Connection) -> None:
    with conn.transaction(force_rollback=True):
        conn.execute("CREATE TABLE fresh (user_id int, created_at timestamptz)")
        records, _ = _insert_wal(conn, "fresh")
    assert records == 0


def test_a_sort_that_outgrows_work_mem_spills_and_its_temp_blocks_are_work(
    conn: database.Connection,
) -> None:
    text = "SELECT user_id, count(*) FROM t GROUP BY user_id ORDER BY 2 DESC, 1"
    calm = explain.explain(conn, text, {}, mode="custom")
    assert calm.spills == ()
    assert calm.temp_blocks == 0
    conn.execute("SET work_mem = '64kB'")
    spilled = explain.explain(conn, text, {}, mode="custom")
    assert spilled.spills
    assert spilled.temp_blocks > 0
    assert all(" — " in entry for entry in spilled.spills)


def test_the_digest_is_the_same_for_the_same_rows_and_differs_for_fewer(
    conn: database.Connection,
) -> None:
    text = RECENT.split("\n", 1)[1]
    full = digest(text, explain.execute(conn, text, {"user_id": 3}))
    again = digest(text, explain.execute(conn, text, {"user_id": 3}))
    fewer = text.replace("LIMIT 20", "LIMIT 5")
    assert full.same_as(again)
    assert full.rows == 20
    assert full.ordered
    cut = digest(fewer, explain.execute(conn, fewer, {"user_id": 3}))
    assert cut.rows == 5
    assert cut.sql != full.sql


def test_the_census_groups_users_by_plan_shape(conn: database.Connection, tmp_path: Path) -> None:
    population = tmp_path / "population.sql"
    population.write_text(POPULATION)
    ids, weights = census.read_population(conn, population)
    users = census.draw(ids, weights, k=census.SAMPLE_USERS, seed=42)
    assert users == census.draw(ids, weights, k=census.SAMPLE_USERS, seed=42)
    assert len(set(users)) == census.SAMPLE_USERS
    query_file = tmp_path / "recent.sql"
    query_file.write_text(RECENT)
    query = load_query(query_file, "feature")

    (one,) = census.census(conn, query, users, pickers={}, now=None)
    assert one.users == census.SAMPLE_USERS
    assert one.expected == ("t_user_created",)
    assert "t_user_created" in one.indexes

    # A competing partial index serves the users above 1000: they get another shape.
    conn.execute("CREATE INDEX t_some_users ON t (user_id, created_at DESC) WHERE user_id > 1000")
    shapes = census.census(conn, query, users, pickers={}, now=None)
    assert len(shapes) == 2
    above = next(s for s in shapes if "t_some_users" in s.indexes)
    assert all(user > 1000 for user in above.user_ids)
    assert sum(s.users for s in shapes) == census.SAMPLE_USERS


def test_an_unreadable_population_is_a_clear_error(
    conn: database.Connection, tmp_path: Path
) -> None:
    with pytest.raises(MeasureError, match="cannot read the population file"):
        census.read_population(conn, tmp_path / "missing.sql")
    empty = tmp_path / "empty.sql"
    empty.write_text("SELECT 1 AS user_id, 1 AS weight WHERE false")
    with pytest.raises(MeasureError, match="the population is empty"):
        census.read_population(conn, empty)
