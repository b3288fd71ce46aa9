"""What a run measures: every benchmark the catalog implies, each with its key.

Per feature: the whole page for each persona, each read query (custom plans) for each of
its personas, the reads that rely on a partial index again under a generic plan, and the
write path. The pytest classes (``pgperf.measure.suite``) and the same-run A/B both
enumerate benchmarks here, so both measure the same set under the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pgperf.measure.catalog import Catalog, Query
from pgperf.verdict.record import (
    GENERIC,
    PAGE,
    PAGE_QUERY,
    PREPARED,
    WRITE,
    WRITE_PATH_QUERY,
    BenchmarkKey,
)

SpecKind = Literal["query", "generic", "page", "write"]


@dataclass(frozen=True)
class BenchSpec:
    """One benchmark to measure: its kind, feature, persona and (for a query) the query."""

    kind: SpecKind
    feature: str
    persona: str
    query: Query | None = None

    @property
    def key(self) -> BenchmarkKey:
        """The key its record carries."""
        if self.kind == "page":
            return BenchmarkKey(self.feature, PAGE_QUERY, self.persona, PAGE)
        if self.kind == "write":
            return BenchmarkKey(self.feature, WRITE_PATH_QUERY, self.persona, WRITE)
        assert self.query is not None
        variant = PREPARED if self.kind == "query" else GENERIC
        return BenchmarkKey(self.feature, self.query.name, self.persona, variant)

    @property
    def test_id(self) -> str:
        """A readable pytest id: ``<query>-<persona>`` (or the persona of a page)."""
        return f"{self.query.name}-{self.persona}" if self.query else self.persona


def feature_specs(catalog: Catalog, feature: str, kind: SpecKind) -> list[BenchSpec]:
    """The benchmarks of one kind for one feature, in catalog order."""
    found = catalog.feature(feature)
    if kind == "page":
        return [BenchSpec("page", feature, p) for p in found.personas]
    if kind == "write":
        return [BenchSpec("write", feature, p) for p in found.write_personas]
    reads = found.partial_reads if kind == "generic" else found.reads
    return [BenchSpec(kind, feature, p, q) for q in reads for p in q.personas]


KINDS: tuple[SpecKind, ...] = ("page", "query", "generic", "write")


def all_specs(catalog: Catalog) -> list[BenchSpec]:
    """Every benchmark of the catalog, feature by feature."""
    return [
        spec
        for feature in sorted(catalog.features)
        for kind in KINDS
        for spec in feature_specs(catalog, feature, kind)
    ]
