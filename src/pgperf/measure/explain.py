"""Execution and evidence: prepared statements, EXPLAIN (ANALYZE, BUFFERS), plan facts.

Generic: it knows statements and plan trees, never a platform table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from psycopg import sql

from pgperf.data.database import Connection
from pgperf.files import engine_sql
from pgperf.measure.params import MeasureError, Params, placeholders, to_positional

PlanMode = Literal["custom", "generic"]
#: Node types that order rows: on a keyset query an index must make them unnecessary.
SORT_NODES = frozenset({"Sort", "Incremental Sort"})
#: A relation with at least this many rows is "large": a Seq Scan on it must be declared.
#: The lookup tables (tiers, providers, models, categories) stay far below it at any profile.
LARGE_TABLE_ROWS = 1000
# The structural keys of a plan node: what the plan *is*, not what one execution cost.
_PLAN_KEYS = (
    "Node Type",
    "Parent Relationship",
    "Subplan Name",
    "Strategy",
    "Partial Mode",
    "Operation",
    "Relation Name",
    "Alias",
    "CTE Name",
    "Function Name",
    "Index Name",
    "Scan Direction",
    "Join Type",
    "Inner Unique",
    "Index Cond",
    "Recheck Cond",
    "Filter",
    "Join Filter",
    "Hash Cond",
    "Merge Cond",
    "Sort Key",
    "Presorted Key",
    "Group Key",
    "Command",
)


@dataclass(frozen=True)
class PlanFacts:
    """What one EXPLAIN (ANALYZE, BUFFERS) execution says about a statement."""

    rows: int
    buffers: int
    server_ms: float
    indexes: tuple[str, ...]
    seq_scans: tuple[str, ...]
    sorts: int
    plan: dict[str, Any] = field(default_factory=dict)


def _sql(name: str) -> str:
    return engine_sql("pgperf.measure", name)


# --- execution --------------------------------------------------------------------------


def set_plan_mode(conn: Connection, mode: PlanMode) -> None:
    """Force custom or generic plans for the prepared statements of this session."""
    # Forcing the mode makes the plan we EXPLAIN the plan we time: under the default 'auto'
    # the server may switch to a generic plan after 5 executions, mid-measurement.
    value = "force_custom_plan" if mode == "custom" else "force_generic_plan"
    conn.execute(sql.SQL("SET plan_cache_mode = {}").format(sql.Literal(value)))


def execute(conn: Connection, text: str, params: Mapping[str, object]) -> list[tuple[Any, ...]]:
    """Run a statement prepared server-side, as psycopg does for a hot query; fetch every row."""
    cur = conn.execute(text, dict(params), prepare=True)
    return cur.fetchall() if cur.description is not None else []


def execute_returning(conn: Connection, text: str, params: Mapping[str, object]) -> Params:
    """Run a prepared write and return its first RETURNING row as column -> value."""
    cur = conn.execute(text, dict(params), prepare=True)
    if cur.description is None:
        return {}
    row = cur.fetchone()
    return {} if row is None else {c.name: v for c, v in zip(cur.description, row, strict=True)}


def timed(action: Callable[[], object]) -> float:
    """Seconds one call of ``action`` takes (wall clock, monotonic)."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# --- EXPLAIN ----------------------------------------------------------------------------

_EXPLAIN = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, VERBOSE OFF, FORMAT JSON) ")


def _explain_json(cur_result: Any) -> dict[str, Any]:
    document = cur_result[0][0]
    return dict(document[0]) if isinstance(document, list) else dict(document)


def explain_custom(conn: Connection, text: str, params: Mapping[str, object]) -> dict[str, Any]:
    """EXPLAIN ANALYZE of one execution with the values bound (the custom plan)."""
    rows = conn.execute(_EXPLAIN + sql.SQL(text), dict(params)).fetchall()
    return _explain_json(rows)


def explain_generic(conn: Connection, text: str, params: Mapping[str, object]) -> dict[str, Any]:
    """EXPLAIN ANALYZE EXECUTE of a prepared statement forced to its generic plan (PG < 16)."""
    name = sql.Identifier("pgperf_generic_probe")
    values = [sql.Literal(params[n]) for n in placeholders(text)]
    conn.execute(sql.SQL("PREPARE {} AS ").format(name) + sql.SQL(to_positional(text)))
    try:
        set_plan_mode(conn, "generic")
        call = sql.SQL("EXECUTE {}").format(name)
        if values:
            call = call + sql.SQL("({})").format(sql.SQL(", ").join(values))
        return _explain_json(conn.execute(_EXPLAIN + call).fetchall())
    finally:
        conn.execute(sql.SQL("DEALLOCATE {}").format(name))


def _nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def normalise(node: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's shape without costs, timings, row counts or buffers (stable across runs)."""
    kept = {key: node[key] for key in _PLAN_KEYS if key in node}
    if node.get("Plans"):
        kept["Plans"] = [normalise(child) for child in node["Plans"]]
    return kept


def plan_facts(document: Mapping[str, Any]) -> PlanFacts:
    """Rows, buffers, time, indexes, seq scans and sorts of one EXPLAIN (FORMAT JSON) result."""
    root = document["Plan"]
    nodes = list(_nodes(root))
    # A node's buffer counters include its children's: the root holds the whole tree's sum.
    buffers = int(root.get("Shared Hit Blocks", 0)) + int(root.get("Shared Read Blocks", 0))
    return PlanFacts(
        rows=int(root.get("Actual Rows", 0)),
        buffers=buffers,
        server_ms=float(document.get("Execution Time", 0.0)),
        indexes=tuple(sorted({str(n["Index Name"]) for n in nodes if "Index Name" in n})),
        seq_scans=tuple(
            sorted({str(n["Relation Name"]) for n in nodes if n.get("Node Type") == "Seq Scan"})
        ),
        sorts=sum(1 for n in nodes if n.get("Node Type") in SORT_NODES),
        plan=normalise(root),
    )


def explain(
    conn: Connection, text: str, params: Mapping[str, object], *, mode: PlanMode
) -> PlanFacts:
    """Plan facts of one execution under the custom or the generic plan."""
    try:
        if mode == "generic":
            return plan_facts(explain_generic(conn, text, params))
        set_plan_mode(conn, "custom")
        return plan_facts(explain_custom(conn, text, params))
    except psycopg.Error as exc:
        raise MeasureError(f"EXPLAIN failed: {exc}".strip()) from exc


def combine(facts: Sequence[PlanFacts], names: Sequence[str]) -> PlanFacts:
    """Plan facts of a page: work summed over its statements, plans keyed by statement."""
    return PlanFacts(
        rows=sum(f.rows for f in facts),
        buffers=sum(f.buffers for f in facts),
        server_ms=sum(f.server_ms for f in facts),
        indexes=tuple(sorted({i for f in facts for i in f.indexes})),
        seq_scans=tuple(sorted({s for f in facts for s in f.seq_scans})),
        sorts=sum(f.sorts for f in facts),
        plan={name: f.plan for name, f in zip(names, facts, strict=True)},
    )


# --- checks on the database -------------------------------------------------------------


def alternatives(entry: str) -> list[str]:
    """The index names of one expected entry: ``"a|b"`` means either index will do."""
    return [name.strip() for name in entry.split("|") if name.strip()]


def resolve_expected(entries: Sequence[str], used: Sequence[str]) -> list[str]:
    """One index name per expected entry: the alternative the plan used, else the first."""
    resolved = []
    for entry in entries:
        names = alternatives(entry)
        resolved.append(next((n for n in names if n in used), names[0]))
    return resolved


def large_relations(conn: Connection, names: Sequence[str]) -> list[str]:
    """Those of ``names`` that hold at least LARGE_TABLE_ROWS rows by the planner's stats."""
    if not names:
        return []
    rows = conn.execute(
        _sql("large_relations.sql"), {"names": list(names), "min_rows": LARGE_TABLE_ROWS}
    ).fetchall()
    return [str(r[0]) for r in rows]


def partial_indexes(conn: Connection, names: Sequence[str]) -> list[str]:
    """Those of ``names`` that are partial indexes (have a WHERE predicate)."""
    if not names:
        return []
    rows = conn.execute(_sql("partial_indexes.sql"), {"names": list(names)}).fetchall()
    return [str(r[0]) for r in rows]


def missing_indexes(conn: Connection, names: Sequence[str]) -> list[str]:
    """Those of ``names`` that do not exist as indexes in this database."""
    rows = conn.execute(_sql("present_indexes.sql"), {"names": list(names)}).fetchall()
    present = {str(r[0]) for r in rows}
    return [n for n in names if n not in present]
