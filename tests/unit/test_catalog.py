"""The query catalog: the project's own catalog loads, and malformed entries are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgperf.config import PACKAGE_ROOT, Layout
from pgperf.measure.catalog import (
    ANY_PERSONA,
    USER_PERSONAS,
    CatalogError,
    catalog_of,
    load_catalog,
)
from pgperf.measure.params import DataNow, Literal, Persona, Pick, Step

FEATURES = {"dashboard", "playground", "agents", "analytics", "reports"}


def test_project_catalog_covers_every_feature_with_its_budget() -> None:
    catalog = catalog_of(Layout(PACKAGE_ROOT))
    assert set(catalog.features) == FEATURES
    budgets = {name: f.budget_ms for name, f in catalog.features.items()}
    assert budgets == {
        "dashboard": 50,
        "playground": 100,
        "agents": 200,
        "analytics": 1000,
        "reports": 5000,
    }


def test_project_catalog_metadata_is_consistent() -> None:
    catalog = catalog_of(Layout(PACKAGE_ROOT))
    for feature in catalog.features.values():
        assert feature.reads, feature.name
        for query in feature.reads:
            assert "-- pgperf:" not in query.text  # the metadata line is not sent
            assert query.personas in (USER_PERSONAS, (ANY_PERSONA,))
            for source in query.params.values():  # parsed once, when the catalog loads
                assert isinstance(source, (Persona, DataNow, Step, Pick, Literal)), query.path
                if isinstance(source, Pick):
                    assert source.picker in catalog.pickers, query.path
    # TestReports has no GenericPlanTests: pgperf.measure.suite refuses the class once
    # reports has one.
    assert catalog.feature("reports").partial_reads == ()
    playground = catalog.feature("playground")
    assert [q.name for q in playground.writes] == ["create_task", "complete_task"]
    assert playground.write_personas == USER_PERSONAS
    assert catalog.feature("dashboard").write_personas == ()  # no write path
    step = catalog.feature("playground").writes[1]
    assert step.params["task_id"] == Step()  # complete_task takes create_task's RETURNING id
    with pytest.raises(CatalogError, match=r"no feature 'nope'.*agents, analytics"):
        catalog.feature("nope")


def _catalog(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "q" / "_pickers").mkdir(parents=True)
    for name, text in files.items():
        path = tmp_path / "q" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "budgets.toml").write_text("[budgets]\nfeat = 50\n")
    return tmp_path


def _load(tmp_path: Path) -> None:
    load_catalog(tmp_path / "q", tmp_path / "budgets.toml")


GOOD = '-- pgperf: {"params": {"user_id": "persona"}, "indexes": ["idx_a"]}\nSELECT %(user_id)s'


def test_a_minimal_catalog_loads(tmp_path: Path) -> None:
    root = _catalog(tmp_path, {"feat/one.sql": GOOD})
    catalog = load_catalog(root / "q", root / "budgets.toml")
    query = catalog.feature("feat").reads[0]
    assert query.text == "SELECT %(user_id)s"
    assert query.expected_indexes == ("idx_a",)
    assert query.personas == USER_PERSONAS
    assert query.params == {"user_id": Persona()}
    assert query.qualified == "feat/one"


def test_metadata_values_become_typed_sources(tmp_path: Path) -> None:
    meta = (
        '{"params": {"u": "persona", "n": "data_now", "s": "step", "p": "pick:pk", '
        '"doc": {"a": 1}, "ids": [1, 2], "status": "active"}, "write": 1}'
    )
    text = f"-- pgperf: {meta}\nSELECT %(u)s, %(n)s, %(s)s, %(p)s, %(doc)s, %(ids)s, %(status)s"
    root = _catalog(tmp_path, {"feat/one.sql": GOOD, "feat/w.sql": text})
    (root / "q" / "_pickers" / "pk.sql").write_text("SELECT 1 AS p")
    catalog = load_catalog(root / "q", root / "budgets.toml")
    (write,) = catalog.feature("feat").writes
    assert write.params == {
        "u": Persona(),
        "n": DataNow(),
        "s": Step(),
        "p": Pick("pk"),
        "doc": Literal({"a": 1}),
        "ids": Literal([1, 2]),
        "status": Literal("active"),
    }
    assert write.write_step == 1
    assert catalog.pickers == {"pk": root / "q" / "_pickers" / "pk.sql"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1", "metadata line"),
        ('-- pgperf: {"idx": []}\nSELECT 1', "unknown metadata keys"),
        ("-- pgperf: {not json}\nSELECT 1", "not valid JSON"),
        ('-- pgperf: {"keyset": "yes"}\nSELECT 1', "'keyset' must be true or false"),
        ("-- pgperf: {}\nSELECT %(user_id)s", "placeholders without a source"),
        ("-- pgperf: {}\nSELECT 'a%b'", "not a %(name)s placeholder"),
        ('-- pgperf: {"params": {"x": "pick:nope"}}\nSELECT %(x)s', "no picker 'nope'"),
    ],
)
def test_malformed_query_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    _catalog(tmp_path, {"feat/one.sql": text})
    with pytest.raises(CatalogError, match=r"one\.sql|picker") as info:
        _load(tmp_path)
    assert message in str(info.value)


def test_budgets_and_folders_must_agree(tmp_path: Path) -> None:
    _catalog(tmp_path, {"feat/one.sql": GOOD, "other/two.sql": GOOD})
    with pytest.raises(CatalogError, match="disagree"):
        _load(tmp_path)


def test_write_steps_must_be_numbered_without_gaps(tmp_path: Path) -> None:
    step = '-- pgperf: {"write": 2}\nUPDATE t SET a = 1'
    _catalog(tmp_path, {"feat/one.sql": GOOD, "feat/w.sql": step})
    with pytest.raises(CatalogError, match="write steps"):
        _load(tmp_path)
