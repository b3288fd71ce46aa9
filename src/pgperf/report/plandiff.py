"""A plan diff people can read: two recorded plans side by side, node by node. Pure.

The trees are matched from the root: a node with the same name on both sides is the same
node (its rows and buffers are compared); a node only one side has was added or removed
(a new Sort above a scan); a pair in the same place under different names changed (an
Index Scan that became a Seq Scan, a Hash Join that became a Nested Loop). A node that
spills to disk, or whose rows are far from the planner's estimate, says so.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pgperf.verdict.plans import MEASURED, PlanShape, node_name, spill_of, strip_measured
from pgperf.verdict.record import BenchmarkRecord

Change = Literal["same", "changed", "added", "removed"]
#: Marks of each change in a text diff (GitHub colours ``+`` and ``-`` lines of a diff block).
MARKS: Mapping[Change, str] = {"same": " ", "changed": "~", "added": "+", "removed": "-"}
_ESTIMATE_FACTOR = 10.0


@dataclass(frozen=True)
class DiffNode:
    """One line of a plan diff: a node of either plan, how it changed, what it measured."""

    depth: int
    change: Change
    before: str | None  # the node's name in the baseline's plan
    after: str | None  # in the current plan
    rows: tuple[str, str]  # baseline, current ("" when that side has no such node)
    buffers: tuple[str, str]
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The node's name, ``before → after`` when it changed."""
        if self.change == "changed" and self.before != self.after:
            return f"{self.before} → {self.after}"
        return str(self.after if self.after is not None else self.before)


def _measured(node: Mapping[str, Any] | None) -> Mapping[str, Any]:
    found = node.get(MEASURED) if node else None
    return found if isinstance(found, Mapping) else {}


def _rows(node: Mapping[str, Any] | None) -> str:
    values = _measured(node)
    if node is None or "Actual Rows" not in values:
        return ""
    loops = int(values.get("Actual Loops", 1) or 1)
    rows = f"{float(values['Actual Rows']):,.0f}"
    return f"{rows} × {loops} loops" if loops > 1 else rows


def _buffers(node: Mapping[str, Any] | None) -> str:
    values = _measured(node)
    if node is None or "Buffers" not in values:
        return ""
    temp = int(values.get("Temp Blocks", 0) or 0)
    return f"{int(values['Buffers']):,}" + (f" + {temp:,} temp" if temp else "")


def _estimate_note(node: Mapping[str, Any] | None) -> str | None:
    values = _measured(node)
    if "Actual Rows" not in values or "Plan Rows" not in values:
        return None
    estimate, actual = float(values["Plan Rows"]), float(values["Actual Rows"])
    ratio = max(actual, 1.0) / max(estimate, 1.0)
    if ratio > _ESTIMATE_FACTOR or 1 / ratio > _ESTIMATE_FACTOR:
        return f"estimated {estimate:,.0f} rows"
    return None


def _notes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[str, ...]:
    notes = []
    spill_before, spill_after = spill_of(_measured(before)), spill_of(_measured(after))
    if spill_after and not spill_before and before is not None:
        notes.append(f"now spills to disk: {spill_after}")
    elif spill_after:
        notes.append(f"spills to disk: {spill_after}")
    elif spill_before and after is not None:
        notes.append(f"no longer spills (was {spill_before})")
    estimate = _estimate_note(after if after is not None else before)
    if estimate:
        notes.append(estimate)
    return tuple(notes)


def _line(
    depth: int,
    change: Change,
    before: tuple[Mapping[str, Any], str] | None,
    after: tuple[Mapping[str, Any], str] | None,
) -> DiffNode:
    b_node, a_node = (before[0] if before else None), (after[0] if after else None)
    return DiffNode(
        depth=depth,
        change=change,
        before=before[1] if before else None,
        after=after[1] if after else None,
        rows=(_rows(b_node), _rows(a_node)),
        buffers=(_buffers(b_node), _buffers(a_node)),
        notes=_notes(b_node, a_node),
    )


def _kin(one: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """The same node in two plans: the same type, or a scan of the same relation."""
    relation = one.get("Relation Name")
    if relation and relation == other.get("Relation Name"):
        return True
    return bool(one.get("Node Type")) and one.get("Node Type") == other.get("Node Type")


def _children(node: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], str]]:
    return [(child, node_name(child, node)) for child in node.get("Plans", ())]


def _one_side(node: tuple[Mapping[str, Any], str], depth: int, change: Change) -> list[DiffNode]:
    lines = [_line(depth, change, *((None, node) if change == "added" else (node, None)))]
    for child in _children(node[0]):
        lines += _one_side(child, depth + 1, change)
    return lines


def _pair(
    before: tuple[Mapping[str, Any], str], after: tuple[Mapping[str, Any], str], depth: int
) -> list[DiffNode]:
    (b_node, b_name), (a_node, a_name) = before, after
    if b_name != a_name and not _kin(b_node, a_node):
        # A node put above (a new Sort) or taken away: the rest of the tree lines up below it.
        below_after = [c for c in _children(a_node) if _kin(c[0], b_node)]
        if below_after:
            return _wrapped(after, below_after[0], before, depth, "added")
        below_before = [c for c in _children(b_node) if _kin(c[0], a_node)]
        if below_before:
            return _wrapped(before, below_before[0], after, depth, "removed")
    spilled = bool(spill_of(_measured(b_node))), bool(spill_of(_measured(a_node)))
    change: Change = "same" if b_name == a_name and spilled[0] == spilled[1] else "changed"
    lines = [_line(depth, change, before, after)]
    return lines + _align(_children(b_node), _children(a_node), depth + 1)


def _wrapped(
    wrapper: tuple[Mapping[str, Any], str],
    inner: tuple[Mapping[str, Any], str],
    other: tuple[Mapping[str, Any], str],
    depth: int,
    change: Change,
) -> list[DiffNode]:
    sides = (None, wrapper) if change == "added" else (wrapper, None)
    lines = [_line(depth, change, *sides)]
    for child in _children(wrapper[0]):
        if child[0] is inner[0]:
            pair = (other, inner) if change == "added" else (inner, other)
            lines += _pair(*pair, depth + 1)
        else:
            lines += _one_side(child, depth + 1, change)
    return lines


def _align(
    before: Sequence[tuple[Mapping[str, Any], str]],
    after: Sequence[tuple[Mapping[str, Any], str]],
    depth: int,
) -> list[DiffNode]:
    matcher = difflib.SequenceMatcher(
        a=[n for _, n in before], b=[n for _, n in after], autojunk=False
    )
    lines: list[DiffNode] = []
    for _, b_lo, b_hi, a_lo, a_hi in matcher.get_opcodes():
        olds, news = list(before[b_lo:b_hi]), list(after[a_lo:a_hi])
        for old, new in zip(olds, news, strict=False):
            lines += _pair(old, new, depth)
        for old in olds[len(news) :]:
            lines += _one_side(old, depth, "removed")
        for new in news[len(olds) :]:
            lines += _one_side(new, depth, "added")
    return lines


def diff_plans(before: Any, after: Any) -> list[DiffNode]:
    """The node-by-node diff of two recorded plans (either may be None: one side only)."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        return _pair((before, node_name(before)), (after, node_name(after)), 0)
    if isinstance(after, Mapping):
        return _one_side((after, node_name(after)), 0, "added")
    if isinstance(before, Mapping):
        return _one_side((before, node_name(before)), 0, "removed")
    return []


def _is_tree(plan: Any) -> bool:
    return isinstance(plan, Mapping) and "Node Type" in plan


def statement_plans(plan: Any) -> dict[str, Any]:
    """A recorded plan by statement: a page or write path keys its plans by statement."""
    if _is_tree(plan):
        return {"": plan}
    if isinstance(plan, Mapping):
        return {str(k): v for k, v in plan.items() if _is_tree(v)}
    return {}


def _spilled(plan: Any) -> list[str]:
    if not isinstance(plan, Mapping):
        return []
    own = [node_name(plan)] if spill_of(_measured(plan)) else []
    return own + [n for child in plan.get("Plans", ()) for n in _spilled(child)]


def plans_differ(before: Any, after: Any) -> bool:
    """Whether two recorded plans differ in shape or in which nodes spill to disk."""
    if before is None or after is None:
        return False
    return strip_measured(before) != strip_measured(after) or sorted(_spilled(before)) != sorted(
        _spilled(after)
    )


def diff_by_statement(before: Any, after: Any) -> dict[str, list[DiffNode]]:
    """The diff of each statement whose plan changed (shape, spills, or only one side has it)."""
    old, new = statement_plans(before), statement_plans(after)
    return {
        name: diff_plans(old.get(name), new.get(name))
        for name in dict.fromkeys([*old, *new])
        if plans_differ(old.get(name), new.get(name)) or (name in old) != (name in new)
    }


def new_shapes(
    current: BenchmarkRecord | None, baseline: BenchmarkRecord | None
) -> list[tuple[PlanShape, list[DiffNode]]]:
    """Each users' plan shape the baseline did not have, diffed against its most common one."""
    if current is None or baseline is None or not current.user_plans or not baseline.user_plans:
        return []
    known = {s.shape for s in baseline.user_plans}
    common = baseline.user_plans[0].plan  # the shapes are recorded most common first
    return [
        (shape, diff_plans(common, shape.plan))
        for shape in current.user_plans
        if shape.shape not in known
    ]


def render_text(lines: Sequence[DiffNode]) -> list[str]:
    """The diff as text lines: a mark, the indented node, rows and buffers before → after."""
    out = []
    for line in lines:
        numbers = []
        for label, (b, a) in (("rows", line.rows), ("buffers", line.buffers)):
            if b or a:
                numbers.append(f"{label} {b or '-'} → {a or '-'}" if b != a else f"{label} {a}")
        detail = "; ".join([*numbers, *line.notes])
        indent = "  " * line.depth
        out.append(
            f"{MARKS[line.change]} {indent}{line.name}" + (f"  ({detail})" if detail else "")
        )
    return out
