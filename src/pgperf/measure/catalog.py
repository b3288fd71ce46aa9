"""The query catalog: ``sql/queries/<feature>/*.sql``, their metadata and the feature budgets.

Each query file starts with one metadata line, ``-- pgperf: {json}``; the folder names the
feature. Keys (all optional):

``params``   name -> source: ``"persona"`` (the persona's user id), ``"data_now"`` (the
             data's reference time from ``pgperf.meta``), ``"pick:NAME"`` (column ``name``
             of the one-row picker ``sql/queries/_pickers/NAME.sql``), ``"step"`` (the
             same-named RETURNING column of an earlier write step), or a literal (objects
             are sent as jsonb, arrays as arrays).
``indexes``  index names the plan must use (``"a|b"``: either, when the planner may
             legitimately pick one of two equivalent indexes).
``seqscan``  relations a sequential scan may read although they are large.
``keyset``   true for keyset pagination an index serves: the plan must have no Sort.
``partial``  true when the query relies on a partial index: also measured under a generic plan.
``write``    step number in the feature's write path (measured in a rolled-back transaction).
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pgperf.config import Layout
from pgperf.errors import PgperfError
from pgperf.files import file_hash
from pgperf.measure.params import Persona, Pick, Source, parse_source, placeholders, stray_percent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

HEADER = re.compile(r"^--\s*pgperf:\s*(\{.*\})\s*$", re.MULTILINE)
PICKERS_DIR = "_pickers"
#: Personas every user-scoped query is measured for; the tail is where regressions hide.
USER_PERSONAS: tuple[str, ...] = ("median", "heavy")
#: The persona label of a query that does not depend on the user.
ANY_PERSONA = "any"
_KEYS = frozenset({"params", "indexes", "seqscan", "keyset", "partial", "write"})


class CatalogError(PgperfError):
    """A query file, its metadata or the budgets file is invalid."""


@dataclass(frozen=True)
class Query:
    """One statement the application sends, with what the suite expects of its plan."""

    feature: str
    name: str
    path: Path
    text: str  # the statement as the application sends it (metadata line removed)
    params: Mapping[str, Source] = field(default_factory=dict)
    expected_indexes: tuple[str, ...] = ()
    seqscan_allowed: tuple[str, ...] = ()
    keyset: bool = False
    partial: bool = False
    write_step: int | None = None

    @property
    def qualified(self) -> str:
        """``<feature>/<query>``, the first part of a benchmark key."""
        return f"{self.feature}/{self.name}"

    @property
    def personas(self) -> tuple[str, ...]:
        """The personas this query is measured for."""
        scoped = any(isinstance(s, Persona) for s in self.params.values())
        return USER_PERSONAS if scoped else (ANY_PERSONA,)


def _personas_of(queries: tuple[Query, ...]) -> tuple[str, ...]:
    scoped = any(q.personas == USER_PERSONAS for q in queries)
    return USER_PERSONAS if scoped else (ANY_PERSONA,)


@dataclass(frozen=True)
class Feature:
    """One screen of the platform: its read queries (in page order), write path and budget."""

    name: str
    budget_ms: float
    reads: tuple[Query, ...]
    writes: tuple[Query, ...]

    @property
    def personas(self) -> tuple[str, ...]:
        """Personas of the whole page: the users' if any query is user-scoped."""
        return _personas_of(self.reads)

    @property
    def write_personas(self) -> tuple[str, ...]:
        """Personas of the write path (none when the feature has no write path)."""
        return _personas_of(self.writes) if self.writes else ()

    @property
    def partial_reads(self) -> tuple[Query, ...]:
        """Reads that rely on a partial index (they get a generic-plan variant)."""
        return tuple(q for q in self.reads if q.partial)


@dataclass(frozen=True)
class Catalog:
    """Every feature, the pickers of parameters, and a content hash of the whole catalog."""

    features: Mapping[str, Feature]
    pickers: Mapping[str, Path]
    content_hash: str

    def feature(self, name: str) -> Feature:
        """One feature by name; a clear error names the known ones."""
        try:
            return self.features[name]
        except KeyError:
            known = ", ".join(sorted(self.features))
            raise CatalogError(f"no feature {name!r} in the catalog (known: {known})") from None


def _strings(value: object, *, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where}: metadata {key!r} must be a list of names")
    return tuple(value)


def _flag(value: object, *, where: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise CatalogError(f"{where}: metadata {key!r} must be true or false")
    return value


def parse_metadata(text: str, *, where: str) -> dict[str, object]:
    """The ``-- pgperf: {json}`` line of a query file, validated for known keys."""
    found = HEADER.findall(text)
    if len(found) != 1:
        raise CatalogError(
            f"{where}: expected one '-- pgperf: {{json}}' metadata line, found {len(found)}",
            hint='e.g. -- pgperf: {"params": {"user_id": "persona"}, "indexes": ["idx_..."]}',
        )
    try:
        meta = json.loads(found[0])
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{where}: metadata is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise CatalogError(f"{where}: metadata must be a JSON object")
    unknown = set(meta) - _KEYS
    if unknown:
        raise CatalogError(
            f"{where}: unknown metadata keys {sorted(unknown)}", hint=f"known: {sorted(_KEYS)}"
        )
    return meta


def check_placeholders(text: str, *, where: str) -> list[str]:
    """The ``%(name)s`` names of a statement; a stray ``%`` (even in a comment) is an error."""
    if stray_percent(text):
        raise CatalogError(
            f"{where}: a '%' that is not a %(name)s placeholder (psycopg would reject it)",
            hint="write a literal percent sign as %%, in comments too",
        )
    return sorted(placeholders(text))


def load_query(path: Path, feature: str) -> Query:
    """Read one query file and its metadata."""
    raw = path.read_text()
    where = str(path)
    meta = parse_metadata(raw, where=where)
    params = meta.get("params", {})
    if not isinstance(params, dict):
        raise CatalogError(f"{where}: metadata 'params' must be an object")
    missing = set(check_placeholders(raw, where=where)) - set(params)
    if missing:
        raise CatalogError(f"{where}: placeholders without a source in 'params': {sorted(missing)}")
    write = meta.get("write")
    if write is not None and (not isinstance(write, int) or isinstance(write, bool)):
        raise CatalogError(f"{where}: metadata 'write' must be the step number (1, 2, ...)")
    return Query(
        feature=feature,
        name=path.stem,
        path=path,
        text=HEADER.sub("", raw).strip().rstrip(";").strip(),
        params={str(k): parse_source(v) for k, v in params.items()},
        expected_indexes=_strings(meta.get("indexes", []), where=where, key="indexes"),
        seqscan_allowed=_strings(meta.get("seqscan", []), where=where, key="seqscan"),
        keyset=_flag(meta.get("keyset", False), where=where, key="keyset"),
        partial=_flag(meta.get("partial", False), where=where, key="partial"),
        write_step=write,
    )


def load_budgets(path: Path) -> dict[str, float]:
    """Feature -> p95 budget in ms, from the ``[budgets]`` table of ``budgets.toml``."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"cannot read the budgets file {path}: {exc}") from exc
    budgets = data.get("budgets")
    if not isinstance(budgets, dict) or not budgets:
        raise CatalogError(f"{path}: needs a [budgets] table of feature = milliseconds")
    bad = [k for k, v in budgets.items() if not _is_budget(v)]
    if bad:
        raise CatalogError(
            f"{path}: budgets must be finite positive milliseconds, not {bad}",
            hint="write e.g. dashboard = 50 (nan, inf and true/false are refused: inf would "
            "switch the budget rule off)",
        )
    return {str(k): float(v) for k, v in budgets.items()}


def _is_budget(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and value > 0


def _step(query: Query) -> int:
    return query.write_step or 0


def load_feature(folder: Path, budget_ms: float) -> Feature:
    """All queries of one feature folder: reads in file order, writes in step order."""
    queries = [load_query(p, folder.name) for p in sorted(folder.glob("*.sql"))]
    writes = sorted((q for q in queries if q.write_step is not None), key=_step)
    steps = [q.write_step for q in writes]
    if steps != list(range(1, len(writes) + 1)):
        raise CatalogError(f"{folder}: write steps must be 1..n without gaps, found {steps}")
    reads = tuple(q for q in queries if q.write_step is None)
    if not reads:
        raise CatalogError(f"{folder}: a feature needs at least one read query (*.sql)")
    return Feature(folder.name, budget_ms, reads, tuple(writes))


def load_catalog(queries_dir: Path, budgets_path: Path) -> Catalog:
    """Every feature folder under ``queries_dir`` with its budget; pickers from ``_pickers``."""
    budgets = load_budgets(budgets_path)
    folders = sorted(p for p in queries_dir.iterdir() if p.is_dir() and p.name[0] not in "_.")
    names = {p.name for p in folders}
    if names != set(budgets):
        raise CatalogError(
            f"feature folders {sorted(names)} and budgets {sorted(budgets)} disagree",
            hint=f"every folder of {queries_dir} needs a budget in {budgets_path}, and back",
        )
    features = {p.name: load_feature(p, budgets[p.name]) for p in folders}
    pickers = {p.stem: p for p in sorted((queries_dir / PICKERS_DIR).glob("*.sql"))}
    for path in pickers.values():
        check_placeholders(path.read_text(), where=str(path))
    catalog = Catalog(features, pickers, file_hash(queries_dir, budgets_path))
    _check_pickers(catalog)
    return catalog


def _check_pickers(catalog: Catalog) -> None:
    for feature in catalog.features.values():
        for query in (*feature.reads, *feature.writes):
            for source in query.params.values():
                if isinstance(source, Pick) and source.picker not in catalog.pickers:
                    raise CatalogError(
                        f"{query.path}: no picker {source.picker!r} in {PICKERS_DIR}/"
                    )


def catalog_of(layout: Layout) -> Catalog:
    """The project's catalog: ``sql/queries`` and ``budgets.toml`` at the project root."""
    return load_catalog(layout.queries_dir, layout.budgets_file)
