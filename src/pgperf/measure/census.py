"""Every user's plan: a user-scoped query planned (EXPLAIN, no ANALYZE) for a sample of users.

The personas are two users; the planner chooses per user, from the statistics of each
user's rows. The census draws users from the population file (``user_id, weight`` rows,
as the load scenarios log in), weighted and deterministic by seed, plans the query for
each with that user's parameters, and groups the plans by shape (the plan without its
constants). What each shape uses (indexes, Seq Scans, which relations are large) is
recorded; the plan rule judges it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path

from pgperf.data.database import Connection
from pgperf.measure import explain, nodes
from pgperf.measure.catalog import Query
from pgperf.measure.params import MeasureError, resolve_params
from pgperf.verdict.plans import PlanShape, walk

#: Users planned per query: enough to meet the users whose plan differs from the personas'.
SAMPLE_USERS = 50


def read_population(conn: Connection, path: Path) -> tuple[list[int], list[float]]:
    """The user ids and weights a population file returns."""
    try:
        rows = conn.execute(path.read_text()).fetchall()
    except OSError as exc:
        raise MeasureError(
            f"cannot read the population file {path}: {exc.strerror or exc}",
            hint="it returns (user_id, weight) rows: the users the load scenarios log in as",
        ) from None
    if not rows:
        raise MeasureError(f"{path}: the population is empty (is the database seeded?)")
    return [int(str(r[0])) for r in rows], [float(str(r[1])) for r in rows]


def draw(ids: Sequence[int], weights: Sequence[float], *, k: int, seed: int) -> list[int]:
    """``k`` distinct users, each drawn with a chance proportional to its weight, sorted."""
    rng = random.Random(seed)
    # Efraimidis-Spirakis: the k largest u^(1/w) are a weighted sample without replacement.
    keyed = sorted(
        (
            (rng.random() ** (1.0 / max(w, 1e-9)), user)
            for user, w in zip(ids, weights, strict=True)
        ),
        reverse=True,
    )
    return sorted(user for _, user in keyed[:k])


def _shape(
    conn: Connection, query: Query, plan: Mapping[str, object], users: list[int]
) -> PlanShape:
    tree = list(walk(plan))
    indexes = tuple(sorted({str(n["Index Name"]) for n in tree if "Index Name" in n}))
    seq_scans = tuple(
        sorted({str(n["Relation Name"]) for n in tree if n.get("Node Type") == "Seq Scan"})
    )
    return PlanShape(
        shape=nodes.shape_of(plan),
        user_ids=tuple(users),
        indexes=indexes,
        seq_scans=seq_scans,
        large_seq_scans=tuple(explain.large_relations(conn, seq_scans)),
        expected=tuple(explain.resolve_expected(query.expected_indexes, indexes)),
        plan=plan,
    )


def census(
    conn: Connection,
    query: Query,
    users: Sequence[int],
    *,
    pickers: Mapping[str, str],
    now: object,
) -> tuple[PlanShape, ...]:
    """The plan shapes of ``query`` over ``users``, the most common first."""
    by_shape: dict[str, tuple[dict[str, object], list[int]]] = {}
    for user in users:
        values = resolve_params(conn, query.params, pickers=pickers, user_id=user, now=now)
        plan = explain.normalise(explain.explain_plan(conn, query.text, values)["Plan"])
        entry = by_shape.setdefault(nodes.shape_of(plan), (plan, []))
        entry[1].append(user)
    shapes = [_shape(conn, query, plan, members) for plan, members in by_shape.values()]
    return tuple(sorted(shapes, key=lambda s: (-s.users, s.user_ids[0])))
