"""What-if runs: applied to a run's clone only, with clear errors for what cannot apply."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from pgperf.data import database
from pgperf.measure.whatif import WhatIfError, apply
from pgperf.provision import ServerHandle
from pgperf.verdict.record import WhatIf

pytestmark = pytest.mark.integration


@pytest.fixture
def clone(pg_server: ServerHandle) -> Iterator[str]:
    """A run database holding one table with an index on it."""
    with database.scratch_database(pg_server, label="whatif") as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (a int, b int)")
            conn.execute("CREATE INDEX idx_t_a ON t (a)")
        yield dsn


def _fetch(dsn: str, query: str) -> object:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()
        return row[0] if row else None


def test_drops_the_index_and_sets_the_settings_for_new_sessions(clone: str) -> None:
    apply(
        clone,
        WhatIf(
            drop_indexes=("idx_t_a",), settings=(("enable_indexscan", "off"), ("work_mem", "4MB"))
        ),
    )

    assert _fetch(clone, "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_t_a'") == 0
    assert _fetch(clone, "SHOW enable_indexscan") == "off"
    assert _fetch(clone, "SHOW work_mem") == "4MB"


def test_an_unknown_index_names_the_closest_ones(clone: str) -> None:
    with pytest.raises(WhatIfError, match="no such index") as caught:
        apply(clone, WhatIf(drop_indexes=("idx_t_aa",)))
    assert "idx_t_a" in str(caught.value.hint)


def test_a_constraint_index_is_refused(clone: str) -> None:
    with psycopg.connect(clone, autocommit=True) as conn:
        conn.execute("ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY (b)")
    with pytest.raises(WhatIfError, match="refused to drop it"):
        apply(clone, WhatIf(drop_indexes=("t_pkey",)))


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (("enable_indexscna", "off"), "is not a PostgreSQL setting"),
        (("shared_buffers", "1GB"), "context 'postmaster'"),
        (("enable_indexscan", "sideways"), "the server refused it"),
    ],
)
def test_a_setting_that_cannot_apply_is_refused(
    clone: str, setting: tuple[str, str], message: str
) -> None:
    with pytest.raises(WhatIfError, match=message):
        apply(clone, WhatIf(settings=(setting,)))


def test_refuses_any_database_but_a_run_clone(pg_server: ServerHandle) -> None:
    with pytest.raises(WhatIfError, match="only a run's clone"):
        apply(pg_server.conninfo, WhatIf(settings=(("enable_indexscan", "off"),)))
    assert _fetch(pg_server.conninfo, "SHOW enable_indexscan") == "on"


def test_sql_runs_in_the_clone_in_order_after_the_drops(clone: str) -> None:
    apply(
        clone,
        WhatIf(
            drop_indexes=("idx_t_a",),
            statements=(
                "INSERT INTO t SELECT g, g FROM generate_series(1, 10) g",
                "CREATE INDEX idx_t_a ON t (b)",  # the dropped name is free again
            ),
        ),
    )

    assert _fetch(clone, "SELECT count(*) FROM t") == 10
    assert _fetch(clone, "SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_t_a'") == (
        "CREATE INDEX idx_t_a ON public.t USING btree (b)"
    )


def test_sql_the_server_refuses_is_a_what_if_error_naming_it(clone: str) -> None:
    with pytest.raises(WhatIfError, match="--what-if-sql 'UPDATE nosuch SET a = 1'") as caught:
        apply(clone, WhatIf(statements=("UPDATE nosuch SET a = 1",)))
    assert "does not exist" in str(caught.value)
    assert "pgperf db up" in str(caught.value.hint)
