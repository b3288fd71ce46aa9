"""The typed records of a results file, shared by whoever writes it and whoever reads it.

A results file is pytest-benchmark's JSON: each benchmark's ``extra_info`` is one
:class:`BenchmarkRecord`, the top-level ``"pgperf"`` object is one :class:`RunMetadata`. The
writer turns records into JSON with ``to_extra_info`` / ``to_json``; the reader
(``pgperf.verdict.results``) validates JSON back into them, field by field, by the kind each
field declares here. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from pgperf.host import MachineInfo
from pgperf.verdict.plans import PlanShape

#: The version of the ``"pgperf"`` object written; version 1 files are still read.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)

#: The variants of a benchmark: prepared (custom plans), generic (force_generic_plan), a
#: whole page, a write path, a load scenario.
PREPARED, GENERIC, PAGE, WRITE, LOAD = "prepared", "generic", "page", "write", "load"
#: The query name of a page and of a write path in a key.
PAGE_QUERY, WRITE_PATH_QUERY = "page", "write_path"

Kind = Literal[
    "text",
    "count",
    "duration",
    "share",
    "names",
    "durations",
    "flag",
    "plan",
    "per_query",
    "name_map",
    "results",
    "shapes",
]


def _f(kind: Kind, default: Any = None) -> Any:
    """A record field whose JSON form is validated as ``kind``; absent means ``default``."""
    if isinstance(default, (list, dict)):
        raise TypeError("use tuples and mappings that are immutable")
    return field(default=default, metadata={"kind": kind})


@dataclass(frozen=True, order=True)
class BenchmarkKey:
    """The id a benchmark is matched by across files: ``<feature>/<query>|<persona>|<variant>``."""

    feature: str
    query: str
    persona: str
    variant: str

    def __str__(self) -> str:
        return f"{self.feature}/{self.query}|{self.persona}|{self.variant}"

    @classmethod
    def parse(cls, text: str) -> BenchmarkKey:
        """Read a key; a ValueError says what a key looks like."""
        qualified, _, rest = text.partition("|")
        persona, _, variant = rest.partition("|")
        feature, _, query = qualified.partition("/")
        if not all((feature, query, persona, variant)) or "|" in variant:
            raise ValueError(f"{text!r} is not a key like 'feature/query|persona|variant'")
        return cls(feature, query, persona, variant)

    @property
    def qualified(self) -> str:
        """``<feature>/<query>``."""
        return f"{self.feature}/{self.query}"

    @property
    def label(self) -> str:
        """Short display name: ``query · persona · variant`` (the key after its feature)."""
        return " · ".join((self.query, self.persona, self.variant))


@dataclass(frozen=True)
class ResultDigest:
    """What one read statement returned: its rows, their checksums, and its SQL's hash."""

    rows: int
    checksum: str  # order-sensitive when ``ordered``, else the same as ``unordered``
    unordered: str
    ordered: bool  # the statement's top level has an ORDER BY
    sql: str  # hash of the statement as the parser reads it

    def same_as(self, other: ResultDigest) -> bool:
        """Whether both returned the same rows (in the same order, where order is asked for)."""
        return (self.rows, self.checksum) == (other.rows, other.checksum)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (an entry of ``results``)."""
        return dict(vars(self))


@dataclass(frozen=True)
class BenchmarkRecord:
    """One benchmark's measurements and evidence (its ``extra_info``); timings in ms."""

    key: BenchmarkKey
    name: str
    samples_ms: tuple[float, ...] = _f("durations", ())
    # Of the samples; written too, for a record without samples (a load run nobody served).
    median_ms: float = _f("duration", 0.0)
    p95_ms: float = _f("duration", 0.0)
    budget_ms: float | None = _f("duration")
    p50_ms: float | None = _f("duration")
    p99_ms: float | None = _f("duration")
    rows: int | None = _f("count")
    buffers: int | None = _f("count")
    server_ms: float | None = _f("duration")
    # Share of the timed rounds' wall time some task waited for a CPU (pgperf.host).
    cpu_pressure: float | None = _f("share")
    plan_indexes: tuple[str, ...] = _f("names", ())
    expected_indexes: tuple[str, ...] = _f("names", ())
    seq_scans: tuple[str, ...] = _f("names", ())
    seqscan_allowed: tuple[str, ...] = _f("names", ())
    plan: Any = field(default=None, metadata={"kind": "plan"})
    # Since format 2: the facts the plan rule needs that only the database knew.
    large_seq_scans: tuple[str, ...] | None = _f("names")  # None: not recorded (format 1)
    sorts: int | None = _f("count")
    keyset: bool = _f("flag", default=False)
    missing_indexes: tuple[str, ...] = _f("names", ())
    catalog_problems: tuple[str, ...] = _f("names", ())
    per_query_ms: Mapping[str, float] = field(default_factory=dict, metadata={"kind": "per_query"})
    # Deterministic evidence beyond shared buffers; None: not recorded (an older file).
    results: Mapping[str, ResultDigest] | None = _f("results")  # statement -> what it returned
    temp_blocks: int | None = _f("count")  # temp blocks read + written
    spills: tuple[str, ...] | None = _f("names")  # "<node> — <how>" of each node that spilled
    misestimates: tuple[str, ...] = _f("names", ())  # nodes whose rows are off >10x
    wal_records: int | None = _f("count")  # a write path's WAL (EXPLAIN (ANALYZE, WAL))
    wal_bytes: int | None = _f("count")
    dirtied: int | None = _f("count")  # shared buffers dirtied
    write_indexes: Mapping[str, tuple[str, ...]] | None = _f(
        "name_map"
    )  # written table -> its indexes
    user_plans: tuple[PlanShape, ...] | None = _f("shapes")  # plan shapes over sampled users
    # Load scenarios (variant "load").
    errors: int | None = _f("count")
    error_samples: tuple[str, ...] = _f("names", ())
    sustained: bool | None = _f("flag")
    offered_rps: float | None = _f("duration")
    throughput_rps: float | None = _f("duration")
    load_problems: tuple[str, ...] = _f("names", ())  # failed jobs, a missing server view
    bottleneck: str | None = _f("text")  # where a load run's time went: "kind: evidence"
    # Everything else the writer recorded (load statements, waits, ...), kept verbatim.
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def feature(self) -> str:
        """The feature (screen) the benchmark belongs to."""
        return self.key.feature

    @property
    def label(self) -> str:
        """Short display name."""
        return self.key.label

    @property
    def costliest(self) -> tuple[str, float] | None:
        """The statement of a page that cost the most (median ms), if recorded."""
        if not self.per_query_ms:
            return None
        name = max(self.per_query_ms, key=lambda n: self.per_query_ms[n])
        return name, self.per_query_ms[name]

    def to_extra_info(self) -> dict[str, Any]:
        """The JSON ``extra_info`` of this record (absent values are left out)."""
        info: dict[str, Any] = {
            "key": str(self.key),
            "feature": self.key.feature,
            "query": self.key.query,
            "persona": self.key.persona,
            "variant": self.key.variant,
            **self.details,
        }
        for spec in typed_fields():
            value = getattr(self, spec.name)
            if value is not None:
                info[spec.name] = _json_value(value)
        return info


def typed_fields() -> tuple[Any, ...]:
    """The record's fields that its JSON form carries, with their declared kind."""
    return tuple(f for f in fields(BenchmarkRecord) if "kind" in f.metadata)


def _json_value(value: Any) -> Any:
    if isinstance(value, (ResultDigest, PlanShape)):
        return value.to_json()
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _json_value(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class PostgresInfo:
    """The server a run was measured against."""

    version: str
    major: int
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexUsage:
    """How much one index was used during the run (the delta of index_usage_stats)."""

    index: str
    table: str
    category: str
    size_bytes: int
    scans: int
    used_by_benchmarks: tuple[str, ...] = ()


def parse_setting(text: str) -> tuple[str, str]:
    """``name=value`` -> (name, value); a ValueError says what a setting must look like."""
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value:
        raise ValueError(f"{text!r} is not NAME=VALUE (e.g. enable_indexscan=off)")
    return name, value


@dataclass(frozen=True)
class WhatIf:
    """Indexes to drop, settings to change and SQL to run in a run's clone before it is measured.

    The SQL (``--what-if-sql``) changes the clone's data or schema: a statement such as an
    UPDATE, a CREATE INDEX or an ANALYZE, run after the drops and settings.
    """

    drop_indexes: tuple[str, ...] = ()
    settings: tuple[tuple[str, str], ...] = ()
    statements: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.drop_indexes or self.settings or self.statements)

    @classmethod
    def from_options(
        cls,
        drop_indexes: Iterable[str] | None,
        settings: Iterable[str] | None,
        statements: Iterable[str] | None = None,
    ) -> WhatIf:
        """The what-if of the command line (``--what-if-drop-index``, ``-setting``, ``-sql``)."""
        parsed = [parse_setting(s) for s in settings or ()]
        return cls(
            drop_indexes=tuple(drop_indexes or ()),
            settings=tuple(parsed),
            statements=tuple(statements or ()),
        )

    def to_json(self) -> dict[str, Any]:
        """The results file's ``"what_if"`` object."""
        return {
            "drop_indexes": list(self.drop_indexes),
            "settings": dict(self.settings),
            **({"sql": list(self.statements)} if self.statements else {}),
        }

    def cli_args(self) -> list[str]:
        """The pytest options that ask for this what-if (to run the suite in a subprocess)."""
        args: list[str] = []
        for name in self.drop_indexes:
            args += ["--what-if-drop-index", name]
        for name, value in self.settings:
            args += ["--what-if-setting", f"{name}={value}"]
        for statement in self.statements:
            args += ["--what-if-sql", statement]
        return args

    @property
    def described(self) -> str:
        """One line for a verdict note: what was changed on purpose."""
        parts = []
        if self.drop_indexes:
            parts.append(f"dropped index {', '.join(self.drop_indexes)}")
        if self.settings:
            parts.append("settings " + ", ".join(f"{k}={v}" for k, v in self.settings))
        if self.statements:
            shown = "; ".join(" ".join(s.split())[:80] for s in self.statements)
            parts.append(f"ran SQL: {shown}")
        return "; ".join(parts) or "no change"


@dataclass(frozen=True)
class AbArm:
    """Which arm of a same-run A/B a results file is, and how its rounds were taken."""

    arm: Literal["base", "head"]
    ref: str  # what the user named as the base, e.g. "main"
    base_commit: str
    head_commit: str
    pinned: bool  # the two backends on one core, the client on another
    pinning: str = ""  # where they ran, or why they could not be pinned

    @property
    def against(self) -> str:
        """``same-run A/B against main (1a2b3c4d5e6f)``, or against the commit alone."""
        short = self.base_commit[:12]
        if self.base_commit.startswith(self.ref):
            return f"same-run A/B against {short}"
        return f"same-run A/B against {self.ref} ({short})"

    def to_json(self) -> dict[str, Any]:
        """The results file's ``"ab"`` object."""
        return dict(vars(self))


@dataclass(frozen=True)
class RunMetadata:
    """The ``"pgperf"`` object of a results file: what was measured, where, and on what."""

    profile: str
    seed: int
    postgres: PostgresInfo
    machine: MachineInfo
    backend: str = ""
    hashes: Mapping[str, str] = field(default_factory=dict)
    git_commit: str | None = None
    created_at: str = ""
    format_version: int = FORMAT_VERSION
    index_usage: tuple[IndexUsage, ...] = ()
    what_if: WhatIf = field(default_factory=WhatIf)
    ab: AbArm | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON ``"pgperf"`` object (always written at the current format version)."""
        return {
            "format_version": FORMAT_VERSION,
            "profile": self.profile,
            "seed": self.seed,
            "hashes": dict(self.hashes),
            "postgres": {
                "version": self.postgres.version,
                "major": self.postgres.major,
                "settings": dict(self.postgres.settings),
            },
            "backend": self.backend,
            "machine": {
                "fingerprint": self.machine.fingerprint,
                "cpu": self.machine.cpu,
                "cores": self.machine.cores,
                "memory_gb": self.machine.memory_gb,
                "os": self.machine.os,
                "python": self.machine.python,
                "instance": self.machine.instance,
            },
            "git_commit": self.git_commit,
            "created_at": self.created_at,
            "index_usage": [
                {**vars(u), "used_by_benchmarks": list(u.used_by_benchmarks)}
                for u in self.index_usage
            ],
            **({"what_if": self.what_if.to_json()} if self.what_if else {}),
            **({"ab": self.ab.to_json()} if self.ab else {}),
        }


@dataclass(frozen=True)
class ResultsFile:
    """A parsed, validated results (or baseline) file."""

    path: Path
    meta: RunMetadata
    benchmarks: tuple[BenchmarkRecord, ...]

    def by_key(self) -> dict[BenchmarkKey, BenchmarkRecord]:
        """The benchmarks indexed by their stable key."""
        return {b.key: b for b in self.benchmarks}
