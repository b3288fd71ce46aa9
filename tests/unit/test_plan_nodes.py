"""Plan nodes (pgperf.measure.nodes), result digests (pgperf.measure.digest) and the plan diff
(pgperf.report.plandiff) on EXPLAIN (FORMAT JSON) output as PostgreSQL 15 writes it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from pgperf.measure import nodes
from pgperf.measure.digest import digest, is_ordered, sql_hash
from pgperf.measure.explain import plan_facts
from pgperf.report.plandiff import diff_plans, render_text
from pgperf.verdict.plans import node_name, spilled_node, strip_measured

# An external sort over an index-only scan (work_mem=64kB), trimmed of its timings.
SPILLING_SORT: dict[str, Any] = {
    "Node Type": "Sort",
    "Plan Rows": 8231,
    "Actual Rows": 8231,
    "Actual Loops": 1,
    "Sort Key": ["(count(*)) DESC"],
    "Sort Method": "external merge",
    "Sort Space Used": 224,
    "Sort Space Type": "Disk",
    "Shared Hit Blocks": 993,
    "Shared Read Blocks": 0,
    "Temp Read Blocks": 55,
    "Temp Written Blocks": 65,
    "Plans": [
        {
            "Node Type": "Aggregate",
            "Strategy": "Sorted",
            "Parent Relationship": "Outer",
            "Plan Rows": 8231,
            "Actual Rows": 8231,
            "Actual Loops": 1,
            "Group Key": ["user_id"],
            "Shared Hit Blocks": 990,
            "Plans": [
                {
                    "Node Type": "Index Only Scan",
                    "Parent Relationship": "Outer",
                    "Index Name": "idx_tasks_user_agent_created",
                    "Relation Name": "tasks",
                    "Alias": "tasks",
                    "Plan Rows": 200000,
                    "Actual Rows": 200000,
                    "Actual Loops": 1,
                    "Shared Hit Blocks": 990,
                }
            ],
        }
    ],
}


def hash_join(batches: int) -> dict[str, Any]:
    """A hash join whose inner hash ran in ``batches`` batches."""
    return {
        "Node Type": "Hash Join",
        "Join Type": "Inner",
        "Hash Cond": "(t.user_id = u.id)",
        "Plan Rows": 100,
        "Actual Rows": 100,
        "Actual Loops": 1,
        "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "tasks", "Alias": "t", "Plan Rows": 100},
            {
                "Node Type": "Hash",
                "Hash Batches": batches,
                "Original Hash Batches": batches,
                "Plans": [{"Node Type": "Seq Scan", "Relation Name": "users", "Alias": "u"}],
            },
        ],
    }


def test_an_external_sort_is_a_spill_named_by_its_node() -> None:
    (spill,) = nodes.spills(SPILLING_SORT)
    assert spill == "Sort by (count(*)) DESC — external merge, 224 kB on disk"
    assert spilled_node(spill) == "Sort by (count(*)) DESC"


def test_a_hash_of_several_batches_spills_and_one_batch_does_not() -> None:
    (spill,) = nodes.spills(hash_join(4))
    assert spill == "Hash for (t.user_id = u.id) — 4 batches"
    assert nodes.spills(hash_join(1)) == ()


def test_plan_facts_count_temp_blocks_and_keep_measured_values_apart() -> None:
    facts = plan_facts({"Plan": SPILLING_SORT, "Execution Time": 29.5})
    assert facts.buffers == 993
    assert facts.temp_blocks == 120
    assert facts.spills == ("Sort by (count(*)) DESC — external merge, 224 kB on disk",)
    assert facts.plan["Measured"]["Buffers"] == 993
    # The shape of the plan is what it was before measured values were kept.
    assert "Measured" not in str(strip_measured(facts.plan))
    assert facts.wal_records is None  # not asked for


def test_misestimates_flag_tenfold_errors_but_not_rows_a_limit_cut_short() -> None:
    plan = {
        "Node Type": "Limit",
        "Plan Rows": 20,
        "Actual Rows": 20,
        "Actual Loops": 1,
        "Plans": [
            {
                "Node Type": "Index Scan",
                "Index Name": "idx",
                "Relation Name": "tasks",
                "Plan Rows": 5000,  # stopped after 20 rows by the Limit: not an error
                "Actual Rows": 20,
                "Actual Loops": 1,
            }
        ],
    }
    assert nodes.misestimates(plan) == ()
    plan["Plans"][0]["Plan Rows"] = 1  # an underestimate is one, Limit or not
    plan["Plans"][0]["Actual Rows"] = 20
    (found,) = nodes.misestimates(plan)
    assert found == "Index Scan using idx on tasks: 1 estimated, 20 actual rows"


def test_a_node_never_executed_is_no_misestimate() -> None:
    plan = {"Node Type": "Seq Scan", "Relation Name": "t", "Plan Rows": 1000, "Actual Loops": 0}
    plan["Actual Rows"] = 0
    assert nodes.misestimates(plan) == ()


def test_shapes_leave_constants_out() -> None:
    one = {"Node Type": "Index Scan", "Index Cond": "(user_id = 42)", "Index Name": "i"}
    other = {"Node Type": "Index Scan", "Index Cond": "(user_id = 4711)", "Index Name": "i"}
    dated = {"Node Type": "Index Scan", "Index Cond": "(created_at >= '2026-01-01'::date)"}
    assert nodes.shape_of(one) == nodes.shape_of(other)
    assert nodes.shape_of(one) != nodes.shape_of({**one, "Index Name": "j"})
    assert nodes.shape_of(dated) == nodes.shape_of(
        {**dated, "Index Cond": "(created_at >= '1999-12-31'::date)"}
    )


def test_written_tables_and_wal_come_from_modify_table_nodes() -> None:
    plan = {
        "Node Type": "ModifyTable",
        "Operation": "Insert",
        "Relation Name": "tasks",
        "WAL Records": 20,
        "WAL Bytes": 1662,
        "Plans": [{"Node Type": "Seq Scan", "Relation Name": "provider_models"}],
    }
    assert nodes.written_tables(plan) == ("tasks",)
    facts = plan_facts({"Plan": plan}, wal=True)
    assert (facts.wal_records, facts.wal_bytes) == (20, 1662)


# --------------------------------------------------------------------------- results


def test_order_by_at_the_top_makes_a_result_order_sensitive() -> None:
    assert is_ordered("SELECT id FROM t WHERE u = %(u)s ORDER BY id LIMIT 5")
    assert not is_ordered("SELECT status, count(*) FROM t GROUP BY status")
    # An ORDER BY inside a CTE orders nothing the caller sees.
    assert not is_ordered("WITH x AS (SELECT id FROM t ORDER BY id LIMIT 3) SELECT * FROM x")


def test_the_sql_hash_ignores_comments_and_layout_but_not_a_limit() -> None:
    text = "SELECT id FROM t\nWHERE u = %(u)s -- the user\nLIMIT 20"
    assert sql_hash(text) == sql_hash("select id   from t where u = %(u)s limit 20")
    assert sql_hash(text) != sql_hash(text.replace("LIMIT 20", "LIMIT 5"))


def test_digests_tell_fewer_rows_other_values_and_another_order() -> None:
    text = "SELECT id, at FROM t ORDER BY at"
    at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    rows = [(1, at, Decimal("1.50")), (2, at, Decimal("2.00"))]
    same = digest(text, rows)
    assert same.ordered
    assert same.rows == 2
    # The same instants in another time zone are the same result.
    shifted = [(i, t.astimezone(dt.timezone(dt.timedelta(hours=2))), d) for i, t, d in rows]
    assert digest(text, shifted).same_as(same)
    swapped = digest(text, rows[::-1])
    assert not swapped.same_as(same)
    assert swapped.unordered == same.unordered
    unordered = digest("SELECT id, at FROM t", rows[::-1])
    assert unordered.checksum == unordered.unordered == same.unordered
    assert digest(text, rows[:1]).rows == 1


# --------------------------------------------------------------------------- plan diff


def test_an_index_scan_that_became_a_seq_scan_under_a_new_sort() -> None:
    before = {
        "Node Type": "Limit",
        "Measured": {"Actual Rows": 20, "Buffers": 24},
        "Plans": [
            {
                "Node Type": "Index Scan",
                "Index Name": "idx_tasks_user_created",
                "Relation Name": "tasks",
                "Measured": {"Actual Rows": 20, "Buffers": 24},
            }
        ],
    }
    after = {
        "Node Type": "Limit",
        "Measured": {"Actual Rows": 20, "Buffers": 2210},
        "Plans": [
            {
                "Node Type": "Sort",
                "Sort Key": ["created_at DESC"],
                "Measured": {"Actual Rows": 20, "Buffers": 2210, "Sort Method": "top-N heapsort"},
                "Plans": [
                    {
                        "Node Type": "Seq Scan",
                        "Relation Name": "tasks",
                        "Measured": {"Actual Rows": 412, "Buffers": 2210},
                    }
                ],
            }
        ],
    }
    lines = diff_plans(before, after)
    assert [(d.depth, d.change) for d in lines] == [(0, "same"), (1, "added"), (2, "changed")]
    assert lines[1].name == "Sort by created_at DESC"
    assert lines[2].name == "Index Scan using idx_tasks_user_created on tasks → Seq Scan on tasks"
    assert lines[2].rows == ("20", "412")
    text = render_text(lines)
    assert text[0] == "  Limit  (rows 20; buffers 24 → 2,210)"
    assert text[1].startswith("+   Sort by created_at DESC")


def test_a_join_type_change_and_a_new_spill_are_changes() -> None:
    before, after = hash_join(1), hash_join(1)
    after["Join Type"] = "Left"
    lines = diff_plans(before, after)
    assert lines[0].change == "changed"
    assert lines[0].name == "Hash Join (Inner) → Hash Join (Left)"
    spilled = hash_join(1)
    spilled["Plans"][1]["Measured"] = {"Hash Batches": 8}
    calm = hash_join(1)
    calm["Plans"][1]["Measured"] = {"Hash Batches": 1}
    hashed = diff_plans(calm, spilled)[2]
    assert hashed.change == "changed"
    assert hashed.notes == ("now spills to disk: 8 batches",)


@pytest.mark.parametrize("kind", ["Hashed", "Sorted"])
def test_aggregates_are_named_as_explain_shows_them(kind: str) -> None:
    name = node_name({"Node Type": "Aggregate", "Strategy": kind, "Group Key": ["status"]})
    assert name == {"Hashed": "HashAggregate", "Sorted": "GroupAggregate"}[kind] + " by status"


def test_a_misestimate_is_named_where_it_starts_not_in_every_node_above() -> None:
    scan = {"Node Type": "Bitmap Heap Scan", "Relation Name": "campaigns"}
    scan |= {"Plan Rows": 1, "Actual Rows": 14, "Actual Loops": 1}
    sort = {"Node Type": "Sort", "Sort Key": ["id DESC"], "Plan Rows": 1, "Actual Rows": 14}
    sort |= {"Actual Loops": 1, "Plans": [scan]}
    assert nodes.misestimates(sort) == (
        "Bitmap Heap Scan on campaigns: 1 estimated, 14 actual rows",
    )
