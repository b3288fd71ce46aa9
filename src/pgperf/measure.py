"""Measurement engine: parameters, prepared execution, EXPLAIN (ANALYZE, BUFFERS) and plans.

Generic: it knows statements, parameter sources and plan trees, never a platform table.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from pgperf.database import META_SCHEMA, Connection
from pgperf.errors import PgperfError

Params = dict[str, object]
PlanMode = Literal["custom", "generic"]

#: Parameter source of a write step's value returned by an earlier step.
STEP_SOURCE = "step"
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
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


class MeasureError(PgperfError):
    """A statement of the catalog could not be parameterised, run or explained."""


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


# --- parameters -------------------------------------------------------------------------


def placeholders(text: str) -> list[str]:
    """Names of the ``%(name)s`` placeholders of a statement, in order of first appearance."""
    names: list[str] = []
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) and match.group(1) not in names:
            names.append(match.group(1))
    return names


def to_positional(text: str, *, style: Literal["dollar", "colon"] = "dollar") -> str:
    """The statement with ``%(name)s`` as ``$n`` (PREPARE) or ``:name`` (pgbench)."""
    names = placeholders(text)

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        return f"${names.index(name) + 1}" if style == "dollar" else f":{name}"

    return _PLACEHOLDER.sub(swap, text)


def persona_user(conn: Connection, persona: str) -> int:
    """The user id seeding recorded for a persona in ``pgperf.personas``."""
    row = conn.execute(
        sql.SQL("SELECT user_id FROM {}.personas WHERE persona = %s").format(
            sql.Identifier(META_SCHEMA)
        ),
        [persona],
    ).fetchone()
    if row is None or row[0] is None:
        raise MeasureError(
            f"no user recorded for persona {persona!r} in {META_SCHEMA}.personas",
            hint="the database must be a clone of a seeded template (seeding records personas)",
        )
    return int(str(row[0]))


def data_now(conn: Connection) -> object:
    """The data's reference time (``pgperf.meta`` key ``data_now``) as a timestamptz."""
    row = conn.execute(
        sql.SQL("SELECT value::timestamptz FROM {}.meta WHERE key = 'data_now'").format(
            sql.Identifier(META_SCHEMA)
        )
    ).fetchone()
    if row is None:
        raise MeasureError(
            f"{META_SCHEMA}.meta has no 'data_now'",
            hint="seeding stores the data's reference time; use a seeded clone",
        )
    return row[0]


def _literal(value: object) -> object:
    # Objects are jsonb documents; lists stay lists, which psycopg sends as arrays.
    return Jsonb(value) if isinstance(value, dict) else value


def run_picker(conn: Connection, picker_sql: str, context: Mapping[str, object]) -> Params:
    """The one row a picker returns, as column -> value."""
    try:
        cur = conn.execute(picker_sql, dict(context))
    except (KeyError, psycopg.Error) as exc:
        raise MeasureError(
            f"picker failed: {exc}", hint=f"its context was {sorted(context)}"
        ) from exc
    row = cur.fetchone()
    if row is None or cur.description is None:
        raise MeasureError("picker returned no row", hint="give it a fallback row (UNION ALL)")
    return {col.name: value for col, value in zip(cur.description, row, strict=True)}


def resolve_params(
    conn: Connection,
    params: Mapping[str, object],
    *,
    persona: str,
    pickers: Mapping[str, str],
) -> Params:
    """Concrete values for a statement's parameter sources (see ``pgperf.catalog``)."""
    values: Params = {}
    for name, source in params.items():
        if source == STEP_SOURCE:
            continue  # a RETURNING column of an earlier write step fills it at run time
        if source == "persona":
            values[name] = persona_user(conn, persona)
        elif source == "data_now":
            values[name] = data_now(conn)
        elif not (isinstance(source, str) and source.startswith("pick:")):
            values[name] = _literal(source)
    picked: dict[str, Params] = {}
    for name, source in params.items():
        if isinstance(source, str) and source.startswith("pick:"):
            picker = source[5:]
            if picker not in picked:
                picked[picker] = run_picker(conn, pickers[picker], values)
            if name not in picked[picker]:
                raise MeasureError(f"picker {picker!r} returns no column {name!r}")
            values[name] = _literal(picked[picker][name])
    return values


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
        "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND reltuples >= %s ORDER BY 1",
        [list(names), LARGE_TABLE_ROWS],
    ).fetchall()
    return [str(r[0]) for r in rows]


def partial_indexes(conn: Connection, names: Sequence[str]) -> list[str]:
    """Those of ``names`` that are partial indexes (have a WHERE predicate)."""
    if not names:
        return []
    rows = conn.execute(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = ANY(%s) AND i.indpred IS NOT NULL ORDER BY 1",
        [list(names)],
    ).fetchall()
    return [str(r[0]) for r in rows]


def missing_indexes(conn: Connection, names: Sequence[str]) -> list[str]:
    """Those of ``names`` that do not exist as indexes in this database."""
    rows = conn.execute(
        "SELECT relname FROM pg_class WHERE relkind = 'i' AND relname = ANY(%s)", [list(names)]
    ).fetchall()
    present = {str(r[0]) for r in rows}
    return [n for n in names if n not in present]


# --- run length -----------------------------------------------------------------------


@dataclass(frozen=True)
class RunLength:
    """How long each benchmark runs: warm-up, then rounds chosen to fill a time target."""

    warmup_rounds: int
    min_rounds: int
    max_rounds: int
    target_s: float
    # A round slower than this is a multi-second report: one warm-up, then 5 to 20 rounds
    # that fill slow_target_s.
    slow_round_s: float = 1.0
    slow_target_s: float = 60.0
    slow_rounds: tuple[int, int] = (5, 20)

    def rounds_for(self, seconds_per_round: float) -> int:
        """Rounds that fill ``target_s`` at the warm-up's pace, within [min, max]."""
        if seconds_per_round >= self.slow_round_s:
            low, high = self.slow_rounds
            return max(low, min(high, int(self.slow_target_s / seconds_per_round)))
        wanted = int(self.target_s / max(seconds_per_round, 1e-6))
        return max(self.min_rounds, min(self.max_rounds, wanted))


# Why these numbers: p95 needs at least 20 samples to mean anything (the 19th of 20) and the
# baseline's significance test wants 20+ per side; warm-up (3 rounds) prepares the statement
# and pulls its pages into shared_buffers, the steady state the budgets are about. `ci`
# (50 benchmarks, most under 5 ms) spends ~1 s on each: about a minute of measuring on top
# of seeding. `default` spends ~3 s on each fast one. A statement slower than 1 s a round
# (the 2M-task reports and the materialized-view refresh, budget 5 s) gets one warm-up and
# as many rounds as fit in a minute, 20 at most and 5 at least: a 1-3 s report keeps its 20
# samples (with 10, p95 is half the slowest round, and one stall of a shared runner fails
# the budget), while a 30 s refresh, already far over any budget, does not eat the ~10
# minutes `make perf` may spend.
RUN_LENGTHS: Mapping[str, RunLength] = {
    "ci": RunLength(warmup_rounds=3, min_rounds=20, max_rounds=300, target_s=1.0),
    "default": RunLength(warmup_rounds=3, min_rounds=20, max_rounds=1000, target_s=3.0),
    "large": RunLength(warmup_rounds=2, min_rounds=20, max_rounds=1000, target_s=5.0),
}


def run_length(profile: str) -> RunLength:
    """The run length of a profile (unknown profiles run like ``default``)."""
    return RUN_LENGTHS.get(profile, RUN_LENGTHS["default"])
