"""What the nodes of one EXPLAIN (FORMAT JSON) plan say: spills, estimates, WAL, their shape.

Pure: plan trees in, facts out. Generic: it knows PostgreSQL's plan nodes, never a
platform table.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pgperf.verdict.plans import MEASURED, SPILL_SEPARATOR, node_name, spill_of, walk

#: A node whose actual rows are this many times above or below its estimate is flagged.
MISESTIMATE_FACTOR = 10.0
# The measured values a recorded plan keeps per node (for the plan diff and the estimates).
_MEASURED_KEYS = (
    "Plan Rows",
    "Actual Rows",
    "Actual Loops",
    "Sort Method",
    "Sort Space Used",
    "Sort Space Type",
    "Hash Batches",
    "Original Hash Batches",
    "HashAgg Batches",
    "Disk Usage",
    "WAL Records",
    "WAL Bytes",
)
_LITERAL = re.compile(r"'(?:[^']|'')*'|(?<![\w$.])-?\d+(?:\.\d+)?(?![\w.])")


def _with_parents(
    node: Mapping[str, Any], parent: Mapping[str, Any] | None = None
) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
    yield node, parent
    for child in node.get("Plans", ()):
        yield from _with_parents(child, node)


def blocks(node: Mapping[str, Any], *kinds: str) -> int:
    """The sum of a node's ``<kind> Blocks`` counters (they include the node's children)."""
    return sum(int(node.get(f"{kind} Blocks", 0) or 0) for kind in kinds)


def measured(node: Mapping[str, Any]) -> dict[str, Any]:
    """One node's measured values: rows, buffers, temp blocks, how it sorted or hashed, WAL."""
    values = {key: node[key] for key in _MEASURED_KEYS if key in node}
    if "Shared Hit Blocks" in node:
        values["Buffers"] = blocks(node, "Shared Hit", "Shared Read")
        values["Temp Blocks"] = blocks(node, "Temp Read", "Temp Written")
    return values


# --------------------------------------------------------------------------- spills


def spills(root: Mapping[str, Any], *, prefix: str = "") -> tuple[str, ...]:
    """Every node of the tree that spilled: ``<node> — <how>``."""
    found = []
    for node, parent in _with_parents(root):
        how = spill_of(node)
        if how is not None:
            found.append(f"{prefix}{node_name(node, parent)}{SPILL_SEPARATOR}{how}")
    return tuple(found)


# --------------------------------------------------------------------------- estimates


def _below_limit(root: Mapping[str, Any]) -> set[int]:
    """Ids of the nodes a Limit above may have stopped early (their actual rows are cut)."""
    cut: set[int] = set()

    def visit(node: Mapping[str, Any], *, limited: bool) -> None:
        if limited:
            cut.add(id(node))
        for child in node.get("Plans", ()):
            visit(child, limited=limited or node.get("Node Type") == "Limit")

    visit(root, limited=False)
    return cut


def misestimates(
    root: Mapping[str, Any], *, prefix: str = "", factor: float = MISESTIMATE_FACTOR
) -> tuple[str, ...]:
    """Nodes whose actual rows (per loop) are off from the estimate by more than ``factor``.

    Below a Limit a node may stop early, so there only an underestimate counts. A node that
    only passes on its child's error (a Limit or Sort above a misestimated scan, with the
    same estimate and rows) is not named again: the error is where it starts.
    """
    cut = _below_limit(root)
    found = []
    for node, parent in _with_parents(root):
        counts = _counts(node)
        if counts is None:
            continue  # never executed
        estimate, actual = counts
        over = max(actual, 1.0) / max(estimate, 1.0)
        if not (over > factor or (id(node) not in cut and 1 / over > factor)):
            continue
        if any(_counts(child) == counts for child in node.get("Plans", ())):
            continue
        found.append(
            f"{prefix}{node_name(node, parent)}: {estimate:,.0f} estimated, "
            f"{actual:,.0f} actual rows"
        )
    return tuple(found)


def _counts(node: Mapping[str, Any]) -> tuple[float, float] | None:
    """(estimated, actual) rows per loop of an executed node."""
    if "Actual Rows" not in node or not node.get("Actual Loops"):
        return None
    return float(node.get("Plan Rows", 0)), float(node["Actual Rows"])


# --------------------------------------------------------------------------- writes


def written_tables(root: Mapping[str, Any]) -> tuple[str, ...]:
    """The relations the ModifyTable nodes of a plan insert into, update or delete from."""
    return tuple(
        sorted(
            {
                str(n["Relation Name"])
                for n in walk(root)
                if n.get("Node Type") == "ModifyTable" and n.get("Relation Name")
            }
        )
    )


def wal(root: Mapping[str, Any]) -> tuple[int, int]:
    """(WAL records, WAL bytes) of an EXPLAIN (ANALYZE, WAL) tree (the root holds the sum)."""
    return int(root.get("WAL Records", 0) or 0), int(root.get("WAL Bytes", 0) or 0)


# --------------------------------------------------------------------------- shapes


def _without_literals(plan: Any) -> Any:
    if isinstance(plan, dict):
        return {k: _without_literals(v) for k, v in plan.items() if k != MEASURED}
    if isinstance(plan, list):
        return [_without_literals(v) for v in plan]
    return _LITERAL.sub("?", plan) if isinstance(plan, str) else plan


def shape_of(plan: Any) -> str:
    """A short hash of a plan's shape with its constants left out (user ids, dates, ...)."""
    text = json.dumps(_without_literals(plan), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
