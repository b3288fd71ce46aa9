"""Plan facts from EXPLAIN (FORMAT JSON), parameter sources and placeholders, run length, and
the benchmarks a catalog implies: pure, no database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pgperf.config import PACKAGE_ROOT, Layout
from pgperf.measure import explain
from pgperf.measure.catalog import (
    ANY_PERSONA,
    USER_PERSONAS,
    CatalogError,
    catalog_of,
    load_catalog,
)
from pgperf.measure.params import (
    DataNow,
    Literal,
    Persona,
    Pick,
    Step,
    parse_source,
    placeholders,
    stray_percent,
    to_positional,
)
from pgperf.measure.plan import BenchSpec, all_specs, feature_specs
from pgperf.measure.runner import RUN_LENGTHS, RunLength, run_length
from pgperf.verdict.record import BenchmarkKey

# Shaped like PostgreSQL 15's EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) output.
PLAN: dict[str, Any] = {
    "Plan": {
        "Node Type": "Limit",
        "Total Cost": 12.5,
        "Actual Rows": 20,
        "Actual Total Time": 0.3,
        "Shared Hit Blocks": 40,
        "Shared Read Blocks": 2,
        "Plans": [
            {
                "Node Type": "Sort",
                "Sort Key": ["t.created_at DESC"],
                "Sort Method": "top-N heapsort",
                "Shared Hit Blocks": 38,
                "Plans": [
                    {
                        "Node Type": "Index Scan",
                        "Relation Name": "tasks",
                        "Index Name": "idx_tasks_user_created",
                        "Index Cond": "(user_id = 42)",
                        "Shared Hit Blocks": 30,
                        "Actual Rows": 120,
                    },
                    {"Node Type": "Seq Scan", "Relation Name": "users", "Filter": "(id = 42)"},
                ],
            }
        ],
    },
    "Planning Time": 0.1,
    "Execution Time": 0.42,
}


def test_plan_facts_take_buffers_from_the_root_and_walk_the_tree() -> None:
    facts = explain.plan_facts(PLAN)
    assert facts.rows == 20
    assert facts.buffers == 42  # root counters already include the children's
    assert facts.server_ms == 0.42
    assert facts.indexes == ("idx_tasks_user_created",)
    assert facts.seq_scans == ("users",)
    assert facts.sorts == 1


def test_normalised_plan_keeps_shape_and_drops_costs_timings_buffers() -> None:
    plan = explain.normalise(PLAN["Plan"])
    text = repr(plan)
    for volatile in ("Cost", "Time", "Blocks", "Actual Rows", "Sort Method"):
        assert volatile not in text
    assert plan["Plans"][0]["Plans"][0]["Index Name"] == "idx_tasks_user_created"
    assert plan["Plans"][0]["Sort Key"] == ["t.created_at DESC"]


def test_combine_sums_work_and_keys_plans_by_statement() -> None:
    one = explain.plan_facts(PLAN)
    page = explain.combine([one, one], ["a", "b"])
    assert page.buffers == 84
    assert page.rows == 40
    assert set(page.plan) == {"a", "b"}


def test_placeholders_become_dollar_or_colon_parameters() -> None:
    text = "SELECT %(b)s, %(a)s, %(b)s, 'x%%'"
    assert placeholders(text) == ["b", "a"]
    assert to_positional(text) == "SELECT $1, $2, $1, 'x%'"
    assert to_positional(text, style="dollar") == "SELECT $1, $2, $1, 'x%'"
    assert to_positional(text, style="colon") == "SELECT :b, :a, :b, 'x%'"


def test_placeholders_in_order_of_first_use_and_escapes_left_alone() -> None:
    text = "SELECT %(user_id)s::bigint WHERE note LIKE '%%'||%(term)s||'%%' AND id = %(user_id)s"
    assert placeholders(text) == ["user_id", "term"]
    assert to_positional(text) == ("SELECT $1::bigint WHERE note LIKE '%'||$2||'%' AND id = $1")
    assert to_positional(text, style="colon") == (
        "SELECT :user_id::bigint WHERE note LIKE '%'||:term||'%' AND id = :user_id"
    )
    assert placeholders("SELECT 1") == []
    assert to_positional("SELECT 1") == "SELECT 1"


@pytest.mark.parametrize(
    ("text", "stray"),
    [
        ("SELECT %(a)s, 'x%%'", False),
        ("SELECT 1", False),
        ("SELECT %(a)s%%", False),
        ("SELECT 'a%b'", True),
        ("-- 100% sure\nSELECT 1", True),  # psycopg reads comments too
        ("SELECT %s", True),  # a positional placeholder is not one of the catalog's
        ("SELECT %(a)d", True),
        ("SELECT %%%", True),
    ],
)
def test_stray_percent_signs_are_found(text: str, stray: bool) -> None:
    assert stray_percent(text) is stray


@pytest.mark.parametrize(
    ("raw", "source"),
    [
        ("persona", Persona()),
        ("data_now", DataNow()),
        ("step", Step()),
        ("pick:favourite_model", Pick("favourite_model")),
        ("active", Literal("active")),
        ("Persona", Literal("Persona")),  # names are exact
        (180, Literal(180)),
        (0.7, Literal(0.7)),
        (True, Literal(True)),
        (None, Literal(None)),
        ([1, 2], Literal([1, 2])),
        ({"conversions": 0}, Literal({"conversions": 0})),
    ],
)
def test_every_metadata_value_parses_to_its_source(raw: object, source: object) -> None:
    assert parse_source(raw) == source


def test_sources_print_as_the_metadata_that_names_them() -> None:
    for raw in ("persona", "data_now", "step", "pick:search_term"):
        assert str(parse_source(raw)) == raw
    assert Pick("search_term").picker == "search_term"


def test_run_length_fills_its_target_within_bounds() -> None:
    length = RunLength(warmup_rounds=1, min_rounds=20, max_rounds=100, target_s=1.0)
    assert length.rounds_for(0.001) == 100
    assert length.rounds_for(0.02) == 50
    assert length.rounds_for(0.5) == 20
    assert length.rounds_for(2.0) == 20  # multi-second reports: as many as fit in a minute
    assert length.rounds_for(5.0) == 12
    assert length.rounds_for(30.0) == 5
    assert run_length("ci").min_rounds >= 20
    assert run_length("ci") is RUN_LENGTHS["ci"]
    assert run_length("tiny") is RUN_LENGTHS["default"]  # unknown profiles run like default


# --------------------------------------------------------------------------- what a run measures


def _catalog(tmp_path: Path) -> Path:
    files = {
        "feat/a_user.sql": '-- pgperf: {"params": {"u": "persona"}}\nSELECT %(u)s',
        "feat/b_any.sql": '-- pgperf: {"partial": true}\nSELECT 1',
        "feat/c_partial_user.sql": '-- pgperf: {"params": {"u": "persona"}, "partial": true}\n'
        "SELECT %(u)s",
        "feat/w1.sql": '-- pgperf: {"params": {"u": "persona"}, "write": 1}\nSELECT %(u)s AS id',
        "feat/w2.sql": '-- pgperf: {"params": {"id": "step"}, "write": 2}\nSELECT %(id)s',
        "other/only.sql": '-- pgperf: {"params": {"n": "data_now"}}\nSELECT %(n)s',
        "other/w.sql": '-- pgperf: {"write": 1}\nSELECT 1',
    }
    for name, text in files.items():
        path = tmp_path / "q" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "q" / "_pickers").mkdir()
    (tmp_path / "budgets.toml").write_text("[budgets]\nfeat = 50\nother = 100\n")
    return tmp_path


def test_all_specs_cover_page_query_generic_and_write_per_the_catalog(tmp_path: Path) -> None:
    root = _catalog(tmp_path)
    catalog = load_catalog(root / "q", root / "budgets.toml")
    specs = all_specs(catalog)
    assert [(s.kind, str(s.key), s.test_id) for s in specs] == [
        ("page", "feat/page|median|page", "median"),
        ("page", "feat/page|heavy|page", "heavy"),
        ("query", "feat/a_user|median|prepared", "a_user-median"),
        ("query", "feat/a_user|heavy|prepared", "a_user-heavy"),
        ("query", "feat/b_any|any|prepared", "b_any-any"),
        ("query", "feat/c_partial_user|median|prepared", "c_partial_user-median"),
        ("query", "feat/c_partial_user|heavy|prepared", "c_partial_user-heavy"),
        ("generic", "feat/b_any|any|generic", "b_any-any"),
        ("generic", "feat/c_partial_user|median|generic", "c_partial_user-median"),
        ("generic", "feat/c_partial_user|heavy|generic", "c_partial_user-heavy"),
        ("write", "feat/write_path|median|write", "median"),
        ("write", "feat/write_path|heavy|write", "heavy"),
        ("page", "other/page|any|page", "any"),
        ("query", "other/only|any|prepared", "only-any"),
        ("write", "other/write_path|any|write", "any"),
    ]
    for spec in specs:
        assert isinstance(spec.key, BenchmarkKey)
        assert BenchmarkKey.parse(str(spec.key)) == spec.key
        assert (spec.query is None) == (spec.kind in ("page", "write"))
    assert specs[2].key == BenchmarkKey("feat", "a_user", "median", "prepared")
    assert specs[2].query is catalog.feature("feat").reads[0]
    assert specs[7].key == BenchmarkKey("feat", "b_any", "any", "generic")
    assert specs[-1] == BenchSpec("write", "other", ANY_PERSONA)


def test_feature_specs_of_one_kind_and_an_unknown_feature(tmp_path: Path) -> None:
    root = _catalog(tmp_path)
    catalog = load_catalog(root / "q", root / "budgets.toml")
    assert feature_specs(catalog, "other", "generic") == []
    assert [s.persona for s in feature_specs(catalog, "feat", "write")] == list(USER_PERSONAS)
    with pytest.raises(CatalogError, match="no feature 'nope'"):
        feature_specs(catalog, "nope", "page")


def test_the_projects_catalog_implies_its_benchmarks() -> None:
    catalog = catalog_of(Layout(PACKAGE_ROOT))
    specs = all_specs(catalog)
    keys = [s.key for s in specs]
    assert len(keys) == len(set(keys)) == 50
    assert {k.variant for k in keys} == {"prepared", "generic", "page", "write"}
    assert {k.feature for k in keys if k.variant == "write"} == {"playground", "reports"}
    for name, feature in catalog.features.items():
        pages = [k for k in keys if k.feature == name and k.variant == "page"]
        assert [k.persona for k in pages] == list(feature.personas)
        generic = {k.query for k in keys if k.feature == name and k.variant == "generic"}
        assert generic == {q.name for q in feature.partial_reads}
        prepared = [k for k in keys if k.feature == name and k.variant == "prepared"]
        assert len(prepared) == sum(len(q.personas) for q in feature.reads)
    assert BenchmarkKey("dashboard", "recent_tasks", "heavy", "prepared") in keys
    assert BenchmarkKey("playground", "write_path", "median", "write") in keys
    assert BenchmarkKey("reports", "write_path", "any", "write") in keys
    assert BenchmarkKey("analytics", "page", "any", "page") in keys
