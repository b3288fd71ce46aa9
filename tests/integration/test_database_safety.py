"""The suite never touches a database it did not create, and the schema applies once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from pgperf.config import Config, resolve_config
from pgperf.data import database
from pgperf.errors import SqlFileError, UnsafeTarget
from pgperf.provision import ServerHandle, provision

pytestmark = pytest.mark.integration


@pytest.fixture
def foreign_db(pg_server: ServerHandle) -> Iterator[str]:
    """A database someone else made (no pgperf mark), holding a table with one row."""
    name = "pgperf_foreign_app"
    with psycopg.connect(pg_server.conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(pg_server.dsn(name), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE customers (id int PRIMARY KEY); INSERT INTO customers VALUES (1)"
        )
    yield name
    with psycopg.connect(pg_server.conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _untouched(server: ServerHandle, name: str) -> bool:
    with psycopg.connect(server.dsn(name)) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()
        rows = conn.execute("SELECT count(*) FROM customers").fetchone()
    return tables == (1,) and rows == (1,)


def test_dsn_backend_refuses_a_database_it_did_not_create(
    pg_server: ServerHandle, foreign_db: str
) -> None:
    config = resolve_config(cli={"backend": "dsn", "dsn": pg_server.dsn(foreign_db)}, env={})
    with (
        pytest.raises(UnsafeTarget, match="did not create") as caught,
        provision(config, announce=False),
    ):
        pytest.fail("provision must refuse before handing out the server")
    assert "dbname=postgres" in str(caught.value)
    assert _untouched(pg_server, foreign_db)


def test_dsn_backend_accepts_the_maintenance_database(pg_server: ServerHandle) -> None:
    config = resolve_config(cli={"backend": "dsn", "dsn": pg_server.conninfo}, env={})
    with provision(config, announce=False) as server:
        assert server.backend == "dsn"
        assert server.persistent


def test_drop_and_clone_refuse_unmarked_databases(pg_server: ServerHandle, foreign_db: str) -> None:
    with pytest.raises(UnsafeTarget, match="did not create"):
        database.drop_database(pg_server, foreign_db)
    with pytest.raises(UnsafeTarget, match="did not create"):
        database.create_database(pg_server, "pgperf_run_clone_x", template=foreign_db)
    assert _untouched(pg_server, foreign_db)
    assert not database.exists(pg_server, "pgperf_run_clone_x")


@pytest.mark.parametrize("name", ["postgres", "app", "pgperf_UPPER", "pgperf_x; drop", "pgperf_"])
def test_names_outside_the_suite_namespace_are_refused(pg_server: ServerHandle, name: str) -> None:
    with pytest.raises(UnsafeTarget, match="pgperf_"):
        database.create_database(pg_server, name)


def test_scratch_database_is_created_marked_and_dropped(pg_server: ServerHandle) -> None:
    with database.scratch_database(pg_server, label="safety") as dsn:
        name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
        assert isinstance(name, str)
        assert name.startswith(database.RUN_PREFIX)
        assert name in database.list_owned(pg_server)
    assert not database.exists(pg_server, name)


def test_schema_applies_once_then_is_a_no_op(schema_db: str, pgperf_config: Config) -> None:
    schema = pgperf_config.layout.schema_file
    with database.connect(schema_db) as conn:
        assert database.apply_schema(conn, schema) is False  # the fixture applied it already
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert tables == (10,)


def test_another_schema_version_is_refused(
    schema_db: str, pgperf_config: Config, tmp_path: Path
) -> None:
    changed = tmp_path / "schema.sql"
    changed.write_text(pgperf_config.layout.schema_file.read_text() + "\n-- v2\n")
    with database.connect(schema_db) as conn, pytest.raises(SqlFileError, match="another version"):
        database.apply_schema(conn, changed)


def test_sql_error_names_file_and_line(pg_server: ServerHandle, tmp_path: Path) -> None:
    broken = tmp_path / "broken.sql"
    broken.write_text("CREATE TABLE a (id int PRIMARY KEY);\n\nCREATE TABLE b (id nosuchtype);\n")
    with (
        database.scratch_database(pg_server, label="broken") as dsn,
        database.connect(dsn) as conn,
    ):
        with pytest.raises(SqlFileError, match=r"broken\.sql:3: type \"nosuchtype\""):
            database.apply_sql_file(conn, broken)
        # One transaction: the statement before the error was rolled back too.
        assert conn.execute("SELECT to_regclass('a')").fetchone() == (None,)
