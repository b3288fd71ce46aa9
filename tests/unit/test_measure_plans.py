"""Plan facts from EXPLAIN (FORMAT JSON), placeholders and run length: pure, no database."""

from __future__ import annotations

from typing import Any

from pgperf import measure

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
    facts = measure.plan_facts(PLAN)
    assert facts.rows == 20
    assert facts.buffers == 42  # root counters already include the children's
    assert facts.server_ms == 0.42
    assert facts.indexes == ("idx_tasks_user_created",)
    assert facts.seq_scans == ("users",)
    assert facts.sorts == 1


def test_normalised_plan_keeps_shape_and_drops_costs_timings_buffers() -> None:
    plan = measure.normalise(PLAN["Plan"])
    text = repr(plan)
    for volatile in ("Cost", "Time", "Blocks", "Actual Rows", "Sort Method"):
        assert volatile not in text
    assert plan["Plans"][0]["Plans"][0]["Index Name"] == "idx_tasks_user_created"
    assert plan["Plans"][0]["Sort Key"] == ["t.created_at DESC"]


def test_combine_sums_work_and_keys_plans_by_statement() -> None:
    one = measure.plan_facts(PLAN)
    page = measure.combine([one, one], ["a", "b"])
    assert page.buffers == 84
    assert page.rows == 40
    assert set(page.plan) == {"a", "b"}


def test_placeholders_become_dollar_or_colon_parameters() -> None:
    text = "SELECT %(b)s, %(a)s, %(b)s, 'x%%'"
    assert measure.placeholders(text) == ["b", "a"]
    assert measure.to_positional(text) == "SELECT $1, $2, $1, 'x%'"
    assert measure.to_positional(text, style="colon") == "SELECT :b, :a, :b, 'x%'"


def test_run_length_fills_its_target_within_bounds() -> None:
    length = measure.RunLength(warmup_rounds=1, min_rounds=20, max_rounds=100, target_s=1.0)
    assert length.rounds_for(0.001) == 100
    assert length.rounds_for(0.02) == 50
    assert length.rounds_for(0.5) == 20
    assert length.rounds_for(2.0) == 20  # multi-second reports: as many as fit in a minute
    assert length.rounds_for(5.0) == 12
    assert length.rounds_for(30.0) == 5
    assert measure.run_length("ci").min_rounds >= 20
