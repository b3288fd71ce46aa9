"""Fixtures shared by the integration tests (the engine's own fixtures come from the plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pgperf import database, indexes
from pgperf.config import Config
from pgperf.provision import ServerHandle

SMALL_DATA = Path(__file__).parent / "sql" / "small_platform.sql"


@pytest.fixture(scope="module")
def small_bench_db(pg_server: ServerHandle, pgperf_config: Config) -> Iterator[str]:
    """Schema + a little data + performance indexes + monitoring: a bench database in small."""
    with database.scratch_database(pg_server, label="small") as dsn:
        with database.connect(dsn) as conn:
            database.apply_schema(conn, pgperf_config.sql_dir / "schema.sql")
            conn.execute(SMALL_DATA.read_bytes())
        indexes.prepare_bench_database(
            dsn, pgperf_config, reporter=indexes.QuietIndexReporter(), full_analyze=True
        )
        yield dsn
