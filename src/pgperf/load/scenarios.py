"""Load scenarios as data: ``sql/load/scenarios.toml`` over the query catalog, made runnable.

The file names catalog queries and a shape; this module turns one entry into the engine's
terms (a request factory, background jobs, a ``Shape``) with parameters resolved up front
for a weighted sample of users, so nothing but the requests themselves runs during a run.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgperf.data.database import Connection
from pgperf.load.background import Background
from pgperf.load.driver import Call, LoadError, Request, Shape
from pgperf.measure.catalog import Catalog, Query
from pgperf.measure.params import Params, Persona, data_now, resolve_params

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

SCENARIOS_FILE = "scenarios.toml"
REQUEST_KINDS = frozenset({"page", "one", "write"})
#: Users drawn (with replacement, by weight) from the population; heavy users recur.
SAMPLE_USERS = 300
_KEYS = frozenset(
    {
        "feature",
        "description",
        "request",
        "mix",
        "users",
        "rate",
        "duration_s",
        "max_requests",
        "short_rate",
        "short_duration_s",
        "pool",
        "population",
        "vary",
        "background",
        "work",
        "pgbench_clients",
    }
)


@dataclass(frozen=True)
class BackgroundSpec:
    """A catalog statement repeated during the run, and the pause between repeats."""

    query: Query
    pause_s: float


@dataclass(frozen=True)
class ScenarioSpec:
    """One entry of ``scenarios.toml``, checked against the catalog."""

    name: str
    feature: str
    description: str
    request: str
    queries: tuple[Query, ...]
    weights: tuple[float, ...]
    full: Shape
    short: Shape
    population: Path
    budget_ms: float
    vary: Mapping[str, Path] = field(default_factory=dict)
    background: tuple[BackgroundSpec, ...] = ()
    work: bool = True
    pgbench_clients: int = 10

    def shape(self, *, short: bool) -> Shape:
        """The short (``make test``) or the full (``make perf-load``) shape."""
        return self.short if short else self.full


def _query(catalog: Catalog, ref: str, *, where: str) -> Query:
    feature, _, name = ref.partition("/")
    found = catalog.feature(feature)
    for query in (*found.reads, *found.writes):
        if query.name == name:
            return query
    raise LoadError(f"{where}: no query {ref!r} in the catalog")


def _queries(catalog: Catalog, raw: Mapping[str, Any], where: str) -> tuple[Query, ...]:
    feature = catalog.feature(str(raw["feature"]))
    if raw["request"] == "write":
        return feature.writes
    if raw["request"] == "page" or "mix" not in raw:
        return feature.reads
    return tuple(_query(catalog, f"{feature.name}/{n}", where=where) for n in raw["mix"])


def _shapes(raw: Mapping[str, Any], seed: int) -> tuple[Shape, Shape]:
    pool_min, pool_max = (int(v) for v in raw.get("pool", (20, 50)))
    common = {"users": int(raw["users"]), "pool_min": pool_min, "pool_max": pool_max}
    full = Shape(
        rate_per_s=float(raw["rate"]),
        duration_s=float(raw["duration_s"]),
        max_requests=int(raw["max_requests"]),
        seed=seed,
        **common,
    )
    short = Shape(
        rate_per_s=float(raw["short_rate"]),
        duration_s=float(raw["short_duration_s"]),
        max_requests=int(raw["max_requests"]),
        seed=seed,
        **common,
    )
    return full, short


def _check_keys(raw: Mapping[str, Any], where: str) -> None:
    unknown = set(raw) - _KEYS
    if unknown:
        raise LoadError(f"{where}: unknown keys {sorted(unknown)}", hint=f"known: {sorted(_KEYS)}")
    if raw.get("request") not in REQUEST_KINDS:
        raise LoadError(f"{where}: request must be one of {sorted(REQUEST_KINDS)}")


def parse_scenario(
    name: str, raw: Mapping[str, Any], *, catalog: Catalog, load_dir: Path, seed: int
) -> ScenarioSpec:
    """One ``[scenario.NAME]`` table, validated against the catalog and ``load_dir``."""
    where = f"{load_dir / SCENARIOS_FILE} [scenario.{name}]"
    _check_keys(raw, where)
    queries = _queries(catalog, raw, where)
    if not queries:
        raise LoadError(f"{where}: feature {raw['feature']!r} has no {raw['request']} queries")
    mix = raw.get("mix", {})
    full, short = _shapes(raw, seed)
    return ScenarioSpec(
        name=name,
        feature=str(raw["feature"]),
        description=str(raw.get("description", name)),
        request=str(raw["request"]),
        queries=queries,
        weights=tuple(float(mix.get(q.name, 1)) for q in queries),
        full=full,
        short=short,
        population=load_dir / str(raw["population"]),
        budget_ms=catalog.feature(str(raw["feature"])).budget_ms,
        vary={str(k): load_dir / str(v) for k, v in raw.get("vary", {}).items()},
        background=tuple(
            BackgroundSpec(_query(catalog, str(b["query"]), where=where), float(b["pause_s"]))
            for b in raw.get("background", ())
        ),
        work=bool(raw.get("work", True)),
        pgbench_clients=int(raw.get("pgbench_clients", 10)),
    )


def load_scenarios(load_dir: Path, catalog: Catalog, *, seed: int = 42) -> dict[str, ScenarioSpec]:
    """Every scenario of ``load_dir/scenarios.toml``, by name."""
    path = load_dir / SCENARIOS_FILE
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LoadError(f"cannot read {path}: {exc}") from exc
    entries = data.get("scenario", {})
    if not entries:
        raise LoadError(f"{path}: no [scenario.NAME] table")
    return {
        n: parse_scenario(n, raw, catalog=catalog, load_dir=load_dir, seed=seed)
        for n, raw in entries.items()
    }


# --- runnable form ------------------------------------------------------------------------


def sample_users(conn: Connection, population: Path, *, seed: int) -> list[int]:
    """``SAMPLE_USERS`` user ids drawn by weight from the population file's rows."""
    rows = conn.execute(population.read_text()).fetchall()
    if not rows:
        raise LoadError(f"{population}: the population is empty (is the database seeded?)")
    ids = [int(str(r[0])) for r in rows]
    weights = [float(str(r[1])) for r in rows]
    return random.Random(seed).choices(ids, weights=weights, k=SAMPLE_USERS)


def _column(conn: Connection, path: Path, name: str) -> list[object]:
    cur = conn.execute(path.read_text())
    columns = [c.name for c in cur.description or ()]
    if name not in columns:
        raise LoadError(f"{path}: returns no column {name!r} (it returns {columns})")
    values = [row[columns.index(name)] for row in cur.fetchall()]
    if not values:
        raise LoadError(f"{path}: returned no rows")
    return values


@dataclass(frozen=True)
class Workload:
    """A scenario made runnable: parameters resolved per sampled user, values to vary."""

    spec: ScenarioSpec
    users: tuple[int, ...]
    params: Mapping[tuple[str, int], Params]  # (query name, user id) -> values
    varied: Mapping[str, Sequence[object]]

    def _call(self, query: Query, user: int, rng: random.Random) -> Call:
        values = dict(self.params[(query.name, user)])
        for name, choices in self.varied.items():
            if name in values:
                values[name] = rng.choice(choices)
        return Call(query.qualified, query.text, values)

    def make_request(self, rng: random.Random) -> Request:
        """The request of one arrival: a user of the sample and the scenario's statements."""
        user = rng.choice(self.users)
        spec = self.spec
        if spec.request == "one":
            (query,) = rng.choices(spec.queries, weights=spec.weights)
            return Request((self._call(query, user, rng),))
        return Request(tuple(self._call(q, user, rng) for q in spec.queries))

    def background(self) -> list[Background]:
        """The scenario's background jobs, in the engine's terms."""
        return [
            Background(b.query.qualified, b.query.text, b.pause_s) for b in self.spec.background
        ]


def prepare(conn: Connection, spec: ScenarioSpec, pickers: Mapping[str, str]) -> Workload:
    """Resolve every query's parameters for a weighted sample of users, before the clock."""
    users = sample_users(conn, spec.population, seed=spec.full.seed)
    now = data_now(conn)  # read once: the same "now" for every user and statement
    params: dict[tuple[str, int], Params] = {}
    for query in spec.queries:
        scoped = any(isinstance(s, Persona) for s in query.params.values())
        shared = None
        for user in sorted(set(users)):
            if shared is None or scoped:
                # The persona's place is taken by a user of the population.
                shared = resolve_params(conn, query.params, pickers=pickers, user_id=user, now=now)
            params[(query.name, user)] = shared
    varied = {name: _column(conn, path, name) for name, path in spec.vary.items()}
    return Workload(spec, tuple(users), params, varied)
