"""Execution and evidence: prepared statements, EXPLAIN (ANALYZE, BUFFERS), plan facts.

Generic: it knows statements and plan trees, never a platform table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from psycopg import sql

from pgperf.data.database import Connection
from pgperf.files import engine_sql
from pgperf.measure import nodes
from pgperf.measure.params import MeasureError, Params, placeholders, to_positional
from pgperf.verdict.plans import MEASURED, walk

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
    temp_blocks: int = 0
    spills: tuple[str, ...] = ()
    misestimates: tuple[str, ...] = ()
    wal_records: int | None = None  # only when asked for (write steps)
    wal_bytes: int | None = None
    dirtied: int = 0
    written_tables: tuple[str, ...] = ()


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
# A write step's plan also counts its WAL: the records and bytes its nodes wrote.
_EXPLAIN_WAL = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, WAL, VERBOSE OFF, FORMAT JSON) ")
_EXPLAIN_PLAN = sql.SQL("EXPLAIN (VERBOSE OFF, FORMAT JSON) ")


def _explain_json(cur_result: Any) -> dict[str, Any]:
    document = cur_result[0][0]
    return dict(document[0]) if isinstance(document, list) else dict(document)


def explain_custom(
    conn: Connection, text: str, params: Mapping[str, object], *, wal: bool = False
) -> dict[str, Any]:
    """EXPLAIN ANALYZE of one execution with the values bound (the custom plan)."""
    prefix = _EXPLAIN_WAL if wal else _EXPLAIN
    rows = conn.execute(prefix + sql.SQL(text), dict(params)).fetchall()
    return _explain_json(rows)


def explain_plan(conn: Connection, text: str, params: Mapping[str, object]) -> dict[str, Any]:
    """The plan the server would choose with these values bound, without running it."""
    try:
        rows = conn.execute(_EXPLAIN_PLAN + sql.SQL(text), dict(params)).fetchall()
    except psycopg.Error as exc:
        raise MeasureError(f"EXPLAIN failed: {exc}".strip()) from exc
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


def normalise(node: Mapping[str, Any], *, with_measured: bool = False) -> dict[str, Any]:
    """The plan's shape without costs, timings, row counts or buffers (stable across runs).

    ``with_measured`` keeps each node's rows, buffers and spill under ``MEASURED``
    (the plan diff shows them; comparisons of shapes leave them out).
    """
    kept: dict[str, Any] = {key: node[key] for key in _PLAN_KEYS if key in node}
    if with_measured:
        kept[MEASURED] = nodes.measured(node)
    if node.get("Plans"):
        kept["Plans"] = [normalise(c, with_measured=with_measured) for c in node["Plans"]]
    return kept


def plan_facts(document: Mapping[str, Any], *, wal: bool = False) -> PlanFacts:
    """Rows, buffers, time, indexes, seq scans, sorts, spills and WAL of one EXPLAIN result."""
    root = document["Plan"]
    tree = list(walk(root))
    # A node's buffer counters include its children's: the root holds the whole tree's sum.
    buffers = nodes.blocks(root, "Shared Hit", "Shared Read")
    records, wal_bytes = nodes.wal(root) if wal else (None, None)
    return PlanFacts(
        rows=int(root.get("Actual Rows", 0)),
        buffers=buffers,
        server_ms=float(document.get("Execution Time", 0.0)),
        indexes=tuple(sorted({str(n["Index Name"]) for n in tree if "Index Name" in n})),
        seq_scans=tuple(
            sorted({str(n["Relation Name"]) for n in tree if n.get("Node Type") == "Seq Scan"})
        ),
        sorts=sum(1 for n in tree if n.get("Node Type") in SORT_NODES),
        plan=normalise(root, with_measured=True),
        temp_blocks=nodes.blocks(root, "Temp Read", "Temp Written"),
        spills=nodes.spills(root),
        misestimates=nodes.misestimates(root),
        wal_records=records,
        wal_bytes=wal_bytes,
        dirtied=nodes.blocks(root, "Shared Dirtied"),
        written_tables=nodes.written_tables(root),
    )


def explain(
    conn: Connection,
    text: str,
    params: Mapping[str, object],
    *,
    mode: PlanMode,
    wal: bool = False,
) -> PlanFacts:
    """Plan facts of one execution under the custom or the generic plan (``wal``: its WAL)."""
    try:
        if mode == "generic":
            return plan_facts(explain_generic(conn, text, params))
        set_plan_mode(conn, "custom")
        return plan_facts(explain_custom(conn, text, params, wal=wal), wal=wal)
    except psycopg.Error as exc:
        raise MeasureError(f"EXPLAIN failed: {exc}".strip()) from exc


def _sum(values: Sequence[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(v or 0 for v in values)


def combine(facts: Sequence[PlanFacts], names: Sequence[str]) -> PlanFacts:
    """Plan facts of a page or write path: work summed, nodes named and plans keyed by step."""
    return PlanFacts(
        rows=sum(f.rows for f in facts),
        buffers=sum(f.buffers for f in facts),
        server_ms=sum(f.server_ms for f in facts),
        indexes=tuple(sorted({i for f in facts for i in f.indexes})),
        seq_scans=tuple(sorted({s for f in facts for s in f.seq_scans})),
        sorts=sum(f.sorts for f in facts),
        plan={name: f.plan for name, f in zip(names, facts, strict=True)},
        temp_blocks=sum(f.temp_blocks for f in facts),
        spills=_named(names, [f.spills for f in facts]),
        misestimates=_named(names, [f.misestimates for f in facts]),
        wal_records=_sum([f.wal_records for f in facts]),
        wal_bytes=_sum([f.wal_bytes for f in facts]),
        dirtied=sum(f.dirtied for f in facts),
        written_tables=tuple(sorted({t for f in facts for t in f.written_tables})),
    )


def _named(names: Sequence[str], groups: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(
        f"{name}: {item}" for name, items in zip(names, groups, strict=True) for item in items
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


def table_indexes(conn: Connection, tables: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each of ``tables`` with the indexes a write into it maintains."""
    found: dict[str, list[str]] = {t: [] for t in tables}
    if tables:
        for table, index in conn.execute(
            _sql("table_indexes.sql"), {"names": list(tables)}
        ).fetchall():
            found.setdefault(str(table), []).append(str(index))
    return {t: tuple(found[t]) for t in sorted(found)}
