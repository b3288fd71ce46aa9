"""Recorded plans: the normalised EXPLAIN trees a record keeps, named and compared. Pure.

A recorded node keeps the structural keys of PostgreSQL's EXPLAIN (FORMAT JSON) (node type,
relation, index, join type, keys and conditions) and, under :data:`MEASURED`, what one
execution measured (rows, buffers, how it sorted or hashed, WAL). The measuring stage
writes them; the rules and the reports read them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: Where a recorded plan keeps a node's measured values; the rest of the node is its shape.
MEASURED = "Measured"
#: Separates a spilling node's name from how it spilled, in a record's ``spills``.
SPILL_SEPARATOR = " — "
_AGGREGATES = {"Hashed": "HashAggregate", "Sorted": "GroupAggregate", "Mixed": "MixedAggregate"}


def strip_measured(plan: Any) -> Any:
    """A recorded plan without its measured values: what the plan *is*."""
    if isinstance(plan, dict):
        return {k: strip_measured(v) for k, v in plan.items() if k != MEASURED}
    if isinstance(plan, list):
        return [strip_measured(v) for v in plan]
    return plan


def spilled_node(entry: str) -> str:
    """The node part of a recorded spill (what is compared with the baseline's spills)."""
    return entry.split(SPILL_SEPARATOR, 1)[0]


def walk(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The node and every node below it, depth first."""
    yield node
    for child in node.get("Plans", ()):
        yield from walk(child)


def _keys(node: Mapping[str, Any], field: str) -> str:
    value = node.get(field)
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value or "")


def node_name(node: Mapping[str, Any], parent: Mapping[str, Any] | None = None) -> str:
    """A readable name: ``Index Scan using idx on tasks``, ``Sort by created_at DESC``."""
    kind = str(node.get("Node Type", "?"))
    if node.get("Join Type") and kind.endswith(("Join", "Nested Loop")):
        kind = f"{kind} ({node['Join Type']})"
    if kind == "Aggregate":
        kind = _AGGREGATES.get(str(node.get("Strategy", "")), kind)
    parts = [kind]
    if node.get("Index Name"):
        parts.append(f"using {node['Index Name']}")
    if node.get("Relation Name"):
        alias = node.get("Alias")
        shown = str(node["Relation Name"])
        parts.append(f"on {shown}" + (f" {alias}" if alias and alias != shown else ""))
    elif node.get("CTE Name"):
        parts.append(f"on {node['CTE Name']}")
    for field, word in (("Sort Key", "by"), ("Group Key", "by")):
        if node.get(field):
            parts.append(f"{word} {_keys(node, field)}")
    if kind == "Hash" and parent is not None and parent.get("Hash Cond"):
        parts.append(f"for {parent['Hash Cond']}")
    return " ".join(parts)


def spill_of(node: Mapping[str, Any]) -> str | None:
    """How a node spilled to disk (an external sort, a hash of several batches), or None."""
    method = str(node.get("Sort Method", ""))
    if method.startswith("external") or node.get("Sort Space Type") == "Disk":
        used = node.get("Sort Space Used")
        return f"{method or 'sort'}" + (f", {used} kB on disk" if used is not None else "")
    for field in ("Hash Batches", "HashAgg Batches"):
        batches = int(node.get(field, 0) or 0)
        if batches > 1:
            disk = node.get("Disk Usage")
            return f"{batches} batches" + (f", {disk} kB on disk" if disk else "")
    return None


@dataclass(frozen=True)
class PlanShape:
    """One plan shape of a user-scoped query over a sample of users (EXPLAIN, no ANALYZE)."""

    shape: str  # hash of the plan without its constants
    user_ids: tuple[int, ...]  # the sampled users who get it, the first one to reproduce it
    indexes: tuple[str, ...] = ()
    seq_scans: tuple[str, ...] = ()
    large_seq_scans: tuple[str, ...] = ()
    expected: tuple[str, ...] = ()  # the expected indexes, each entry resolved for this shape
    plan: Any = None

    @property
    def users(self) -> int:
        """How many sampled users get this shape."""
        return len(self.user_ids)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (an entry of ``user_plans``)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(self).items()}
