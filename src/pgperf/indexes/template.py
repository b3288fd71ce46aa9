"""The bench template: the seeded data plus the performance indexes, monitoring and ANALYZE.

``pgperf_bench_<profile>_<hash>``, hashed over the seeded template, the index file and
monitoring.sql. It is derived from the previous bench template of the same seeded data when
one exists (a file copy, then only the indexes whose statements differ are built), else
from the seeded template (every index, then a full ANALYZE). Benchmarks, load scenarios and
``pgperf db up`` work on clones of it; :func:`ensure_bench_chain` is the one way to get it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

from pgperf.config import Config
from pgperf.data import database
from pgperf.data.seeding import ensure_seeded_template
from pgperf.data.templates import (
    BENCH,
    Template,
    ensure_template,
    prune,
    read_key,
    templates_of,
)
from pgperf.files import file_hash
from pgperf.indexes.apply import (
    ApplyReport,
    analyze_changed,
    apply_index_file,
    apply_monitoring,
)
from pgperf.progress import QuietReporter, Reporter
from pgperf.provision import ServerHandle

#: Bump when the engine changes how a bench template is built (part of its hash).
ENGINE_FORMAT = "1"
#: The bookkeeping key naming the seeded template's hash a bench template was built on.
SEEDED_FROM = "bench_seed_hash"


def bench_hash(seeded: Template, config: Config) -> str:
    """Hash of a bench template: the seeded template's hash, the index and monitoring files."""
    layout = config.layout
    digest = hashlib.sha256()
    for part in (
        ENGINE_FORMAT,
        seeded.content_hash,
        file_hash(layout.index_file),
        file_hash(layout.monitoring_file),
    ):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def _previous_bench(server: ServerHandle, profile: str, seeded: Template) -> str | None:
    """A complete bench template of the same seeded data (only its indexes differ)."""
    for name in templates_of(server, BENCH, profile):
        complete = read_key(server, name, BENCH.complete_key) is not None
        if complete and read_key(server, name, SEEDED_FROM) == seeded.content_hash:
            return name
    return None


def prepare_bench_database(
    dsn: str, config: Config, *, reporter: Reporter, full_analyze: bool
) -> ApplyReport:
    """Apply the index file, then monitoring.sql, then ANALYZE what changed, in ``dsn``."""
    layout = config.layout
    with database.connect(dsn) as conn:
        report = apply_index_file(conn, layout.index_file, reporter=reporter)
        monitoring = apply_monitoring(conn, layout.monitoring_file)
        analyze_changed(conn, report, monitoring=monitoring, full=full_analyze)
        database.write_meta(conn, "indexes_hash", file_hash(layout.index_file))
    return report


def ensure_bench_template(
    server: ServerHandle,
    config: Config,
    seeded: Template,
    *,
    reporter: Reporter | None = None,
    keep: Collection[str] = (),
) -> Template:
    """Reuse the bench template of this hash, or derive it; only changed indexes are built.

    One bench template per profile is kept (each weighs as much as the seeded data), and
    those named in ``keep`` (an A/B run holds one per arm).
    """
    out = reporter or QuietReporter()
    digest = bench_hash(seeded, config)

    chosen: list[str] = []

    def base() -> str:
        chosen.append(_previous_bench(server, config.profile, seeded) or seeded.name)
        return chosen[-1]

    def build(dsn: str) -> None:
        # From the seeded data every statistic is new; from a bench template only some.
        prepare_bench_database(dsn, config, reporter=out, full_analyze=chosen[-1] == seeded.name)
        with database.connect(dsn) as conn:
            database.write_meta(conn, SEEDED_FROM, seeded.content_hash)

    template = ensure_template(
        server, BENCH, profile=config.profile, digest=digest, build=build, base=base
    )
    prune(server, BENCH, config.profile, keep={template.name, *keep})
    out.note(f"{template.verb} bench template {template.name} in {template.seconds:.1f}s")
    return template


@dataclass(frozen=True)
class BenchChain:
    """The seeded template and the bench template made from it."""

    seeded: Template
    bench: Template


def ensure_bench_chain(
    server: ServerHandle,
    config: Config,
    *,
    reporter: Reporter | None = None,
    keep: Collection[str] = (),
) -> BenchChain:
    """Seeded template, then bench template, each reused by content hash."""
    seeded = ensure_seeded_template(server, config, reporter=reporter)
    bench = ensure_bench_template(server, config, seeded, reporter=reporter, keep=keep)
    return BenchChain(seeded, bench)
