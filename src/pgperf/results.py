"""Results and baseline files: read and validate them, build their metadata, promote atomically.

A results file is pytest-benchmark's JSON plus a top-level ``"pgperf"`` object (see
docs/ARCHITECTURE.md, "Results file"). Reading one gives frozen dataclasses the pure
comparison (`pgperf.compare`) works on; every problem with a file is a `ResultsFileError`
that says what failed, what was checked and what to do.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgperf.errors import ResultsFileError
from pgperf.stats import median, percentile

if TYPE_CHECKING:
    from pgperf.config import Config

#: The version of the ``"pgperf"`` object this module reads and writes.
FORMAT_VERSION = 1

#: What a file must hold, said in every "corrupt file" message.
_EXPECTED = (
    'pytest-benchmark JSON with a "benchmarks" list (each with extra_info.key and '
    'samples_ms or stats) and a top-level "pgperf" object (format_version, profile, seed, '
    "postgres, machine, ...)"
)


@dataclass(frozen=True)
class MachineInfo:
    """The machine a run was measured on; ``fingerprint`` is stable across its runs."""

    fingerprint: str
    cpu: str
    cores: int
    memory_gb: int
    os: str = ""
    python: str = ""


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
    # A what-if run's injected change (pgperf.whatif): {"drop_indexes": [...], "settings": {...}}.
    what_if: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BenchmarkResult:
    """One benchmark of a results file, matched across files by ``key``; timings in ms."""

    key: str
    feature: str
    name: str
    samples_ms: tuple[float, ...]
    median_ms: float
    p95_ms: float
    query: str = ""
    persona: str = ""
    variant: str = ""
    budget_ms: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    rows: int | None = None
    buffers: int | None = None
    server_ms: float | None = None
    # Share of the benchmark's wall time some task waited for a CPU (pgperf.pressure).
    cpu_pressure: float | None = None
    plan_indexes: tuple[str, ...] = ()
    expected_indexes: tuple[str, ...] = ()
    seq_scans: tuple[str, ...] = ()
    seqscan_allowed: tuple[str, ...] = ()
    plan: Any = None
    extra_info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Short display name: ``query · persona · variant`` (the key after its feature)."""
        parts = [p for p in (self.query, self.persona, self.variant) if p]
        return " · ".join(parts) if parts else self.name


@dataclass(frozen=True)
class ResultsFile:
    """A parsed, validated results (or baseline) file."""

    path: Path
    meta: RunMetadata
    benchmarks: tuple[BenchmarkResult, ...]

    def by_key(self) -> dict[str, BenchmarkResult]:
        """The benchmarks indexed by their stable key."""
        return {b.key: b for b in self.benchmarks}


# --------------------------------------------------------------------------- validation


class _Invalid(Exception):
    """A structural problem found while reading; load_results adds the file and the hint."""


def _get(data: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise _Invalid(f"{where} has no {key!r}")
    value = data[key]
    # bool is an int in Python; a boolean where a number belongs is still corrupt.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise _Invalid(f"{where}.{key} is a boolean")
    if not isinstance(value, kind):
        raise _Invalid(f"{where}.{key} is {type(value).__name__}, not {_kind_name(kind)}")
    return value


def _opt(data: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    return None if data.get(key) is None else _get(data, key, where, kind)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _number(data: Mapping[str, Any], key: str, where: str) -> float | None:
    value = _opt(data, key, where, (int, float))
    return None if value is None else float(value)


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _opt(data, key, where, list) or []
    if not all(isinstance(v, str) for v in values):
        raise _Invalid(f"{where}.{key} must be a list of strings")
    return tuple(values)


def _samples(extra: Mapping[str, Any], where: str) -> tuple[float, ...]:
    values = _opt(extra, "samples_ms", where, list) or []
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise _Invalid(f"{where}.samples_ms must be a list of numbers")
    return tuple(float(v) for v in values)


def _median_ms(samples: tuple[float, ...], stats: Mapping[str, Any], where: str) -> float:
    if samples:
        return median(samples)
    if isinstance(stats.get("median"), (int, float)):
        return float(stats["median"]) * 1000  # pytest-benchmark times are in seconds
    raise _Invalid(f"{where} has neither extra_info.samples_ms nor stats.median")


def _parse_benchmark(raw: Any, index: int) -> BenchmarkResult:
    where = f"benchmarks[{index}]"
    if not isinstance(raw, dict):
        raise _Invalid(f"{where} is not an object")
    name = str(raw.get("name") or raw.get("fullname") or where)
    extra = _get(raw, "extra_info", f"{where} ({name})", dict)
    where = f"{where}.extra_info ({name})"
    key = _get(extra, "key", where, str)
    samples = _samples(extra, where)
    stats: Mapping[str, Any] = raw["stats"] if isinstance(raw.get("stats"), dict) else {}
    median_ms = _median_ms(samples, stats, where)
    p95 = _number(extra, "p95_ms", where)
    rows, buffers = _opt(extra, "rows", where, int), _opt(extra, "buffers", where, int)
    return BenchmarkResult(
        key=key,
        feature=str(extra.get("feature") or raw.get("group") or key.split("/", 1)[0]),
        name=name,
        samples_ms=samples,
        median_ms=median_ms,
        p95_ms=p95 if p95 is not None else (percentile(samples, 95) if samples else median_ms),
        query=str(extra.get("query") or ""),
        persona=str(extra.get("persona") or ""),
        variant=str(extra.get("variant") or ""),
        budget_ms=_number(extra, "budget_ms", where),
        p50_ms=_number(extra, "p50_ms", where),
        p99_ms=_number(extra, "p99_ms", where),
        rows=rows,
        buffers=buffers,
        server_ms=_number(extra, "server_ms", where),
        cpu_pressure=_number(extra, "cpu_pressure", where),
        plan_indexes=_strings(extra, "plan_indexes", where),
        expected_indexes=_strings(extra, "expected_indexes", where),
        seq_scans=_strings(extra, "seq_scans", where),
        seqscan_allowed=_strings(extra, "seqscan_allowed", where),
        plan=extra.get("plan"),
        extra_info=extra,
    )


def _parse_machine(raw: Mapping[str, Any]) -> MachineInfo:
    where = "pgperf.machine"
    return MachineInfo(
        fingerprint=_get(raw, "fingerprint", where, str),
        cpu=str(raw.get("cpu") or ""),
        cores=int(_opt(raw, "cores", where, int) or 0),
        memory_gb=int(_opt(raw, "memory_gb", where, (int, float)) or 0),
        os=str(raw.get("os") or ""),
        python=str(raw.get("python") or ""),
    )


def _parse_postgres(raw: Mapping[str, Any]) -> PostgresInfo:
    where = "pgperf.postgres"
    settings = _opt(raw, "settings", where, dict) or {}
    return PostgresInfo(
        version=str(_get(raw, "version", where, (str, int, float))),
        major=_get(raw, "major", where, int),
        settings={str(k): str(v) for k, v in settings.items()},
    )


def _parse_index_usage(raw: Any) -> tuple[IndexUsage, ...]:
    items = raw if isinstance(raw, list) else []
    usage = []
    for i, item in enumerate(items):
        where = f"pgperf.index_usage[{i}]"
        if not isinstance(item, dict):
            raise _Invalid(f"{where} is not an object")
        usage.append(
            IndexUsage(
                index=_get(item, "index", where, str),
                table=str(item.get("table") or ""),
                category=str(item.get("category") or ""),
                size_bytes=int(_opt(item, "size_bytes", where, int) or 0),
                scans=int(_opt(item, "scans", where, int) or 0),
                used_by_benchmarks=_strings(item, "used_by_benchmarks", where),
            )
        )
    return tuple(usage)


def _parse_meta(raw: Mapping[str, Any]) -> RunMetadata:
    where = "pgperf"
    hashes = _opt(raw, "hashes", where, dict) or {}
    return RunMetadata(
        format_version=FORMAT_VERSION,
        profile=_get(raw, "profile", where, str),
        seed=_get(raw, "seed", where, int),
        postgres=_parse_postgres(_get(raw, "postgres", where, dict)),
        machine=_parse_machine(_get(raw, "machine", where, dict)),
        backend=str(raw.get("backend") or ""),
        hashes={str(k): str(v) for k, v in hashes.items()},
        git_commit=_opt(raw, "git_commit", where, str),
        created_at=str(raw.get("created_at") or ""),
        index_usage=_parse_index_usage(raw.get("index_usage")),
        what_if=_opt(raw, "what_if", where, dict) or {},
    )


def _check_unique(benchmarks: Sequence[BenchmarkResult]) -> None:
    seen: set[str] = set()
    for bench in benchmarks:
        if bench.key in seen:
            raise _Invalid(f"two benchmarks share the key {bench.key!r} (keys must be unique)")
        seen.add(bench.key)


# --------------------------------------------------------------------------- reading


def parse_results(data: Any, *, path: Path, role: str = "results file") -> ResultsFile:
    """Validate decoded JSON as a results file; raise ResultsFileError on any problem."""
    try:
        if not isinstance(data, dict):
            raise _Invalid(f"the top level is {type(data).__name__}, not an object")
        benchmarks_raw = _get(data, "benchmarks", "the top level", list)
        if not isinstance(data.get("pgperf"), dict):
            raise _Invalid(
                'there is no top-level "pgperf" object (a plain pytest-benchmark file, '
                "not written by the pgperf suite?)"
            )
        _check_version(data["pgperf"], path, role)
        meta = _parse_meta(data["pgperf"])
        benchmarks = tuple(_parse_benchmark(b, i) for i, b in enumerate(benchmarks_raw))
        if not benchmarks:
            raise _Invalid(
                "it holds no benchmarks (did the run select no perf test, or stop early?)"
            )
        _check_unique(benchmarks)
    except _Invalid as exc:
        raise ResultsFileError(
            f"{role} {path} is not a valid pgperf results file: {exc}. "
            f"It was checked for {_EXPECTED}.",
            hint=_rerun_hint(role),
        ) from None
    return ResultsFile(path=path, meta=meta, benchmarks=benchmarks)


def _check_version(meta: Mapping[str, Any], path: Path, role: str) -> None:
    version = _get(meta, "format_version", "pgperf", int)
    if version != FORMAT_VERSION:
        newer = "a newer" if version > FORMAT_VERSION else "an older"
        raise ResultsFileError(
            f"{role} {path} has results format version {version}, probably written by {newer} "
            f"pgperf; this pgperf reads format version {FORMAT_VERSION} only.",
            hint="record it again with this pgperf (`make perf`, then `make baseline` for a "
            "baseline), or compare with the pgperf version that wrote it",
        )


def _rerun_hint(role: str) -> str:
    if role == "baseline":
        return (
            "record a new baseline: run the suite (`make perf`) then `make baseline`, "
            "or restore baselines/<profile>.json from git"
        )
    return (
        "rerun the suite (`make perf` writes reports/results.json); an interrupted run "
        "can leave a truncated file"
    )


def load_results(path: Path, *, role: str = "results file") -> ResultsFile:
    """Read and validate a results or baseline file (``role`` names it in messages)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsFileError(
            f"{role} {path} does not exist (checked the path as given, relative to {Path.cwd()}).",
            hint=_rerun_hint(role),
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ResultsFileError(
            f"cannot read {role} {path}: {detail}.",
            hint="check that the path names a readable UTF-8 JSON file (permissions, not a folder)",
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsFileError(
            f"{role} {path} is corrupt: not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}). It was checked for {_EXPECTED}.",
            hint=_rerun_hint(role),
        ) from None
    return parse_results(data, path=path, role=role)


def check_comparable(baseline: ResultsFile, results: ResultsFile) -> None:
    """Refuse a baseline measured on other data (another profile or seed) than the results."""
    base, cur = baseline.meta, results.meta
    if (base.profile, base.seed) == (cur.profile, cur.seed):
        return
    raise ResultsFileError(
        f"baseline {baseline.path} was recorded on profile {base.profile!r} seed {base.seed}, "
        f"but results {results.path} on profile {cur.profile!r} seed {cur.seed}; timings and "
        "buffers of different data volumes cannot be compared (checked the profile and seed "
        'of both "pgperf" objects).',
        hint=f"compare with baselines/{cur.profile}.json, or rerun the suite with "
        f"--profile {base.profile} --seed {base.seed}",
    )


def default_baseline_path(project_root: Path, profile: str) -> Path:
    """Where `make baseline` keeps a profile's baseline: ``baselines/<profile>.json``."""
    return project_root / "baselines" / f"{profile}.json"


# --------------------------------------------------------------------------- promotion


def promote(results_path: Path, baseline_path: Path) -> ResultsFile:
    """Validate a results file, then copy it to ``baseline_path`` atomically; return it parsed.

    The copy is written to a temporary file in the target folder, fsynced and renamed over
    the target, so a reader sees the old baseline or the new one, never half of one.
    """
    parsed = load_results(results_path)
    if parsed.meta.what_if:
        raise ResultsFileError(
            f"results file {results_path} comes from a what-if run (an index dropped or a "
            "setting changed on purpose, see its pgperf.what_if): it is not a baseline.",
            hint="promote the results of a normal run (`make perf`, then `make baseline`)",
        )
    payload = results_path.read_bytes()  # verbatim: keeps pytest-benchmark's own fields
    baseline_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{baseline_path.name}.", suffix=".tmp", dir=baseline_path.parent
    )
    try:
        with os.fdopen(fd, "wb") as tmp:
            os.fchmod(tmp.fileno(), 0o644)  # mkstemp's 0600 would hide it from other readers
            tmp.write(payload)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, baseline_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(baseline_path.parent)
    return parsed


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder entry is on disk (no-op where unsupported).
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- writing metadata


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _cores() -> int:
    # The CPUs this process may run on (a container's cpuset), not the host's count.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _memory_gb() -> int:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError, AttributeError):
        return 0


def machine_info() -> MachineInfo:
    """Describe this machine; the fingerprint hashes what changes timings, not the hostname."""
    cpu, cores, memory = _cpu_model(), _cores(), _memory_gb()
    python = platform.python_version()
    # Kernel release and Python patch level are left out: they change on routine updates,
    # and a fingerprint that moves would silently turn every latency check into information.
    stable = "|".join(
        [cpu, str(cores), str(memory), platform.system(), platform.machine(), python[:4]]
    )
    return MachineInfo(
        fingerprint=hashlib.sha256(stable.encode()).hexdigest()[:16],
        cpu=cpu,
        cores=cores,
        memory_gb=memory,
        os=f"{platform.system()} {platform.release()} {platform.machine()}",
        python=python,
    )


def postgres_major(version: str) -> int:
    """The major of a server_version string: ``'15.18'`` → 15, ``'17.2 (Debian …)'`` → 17."""
    match = re.match(r"\s*(\d+)", version)
    if not match:
        raise ValueError(f"cannot read a PostgreSQL major from {version!r}")
    return int(match.group(1))


def git_commit(project_root: Path) -> str | None:
    """The checked-out commit of the project (``+dirty`` when files changed), or None."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=project_root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=project_root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if dirty else head


def content_hashes(config: Config) -> dict[str, str]:
    """Content hashes of what defines a run's data and queries (absent parts are left out)."""
    from pgperf.database import file_hash  # lazy: keeps reading files free of psycopg

    parts = {
        "schema": config.sql_dir / "schema.sql",
        "generators": config.fixtures_dir,
        "indexes": config.sql_dir / "performance_indexes.sql",
        "monitoring": config.sql_dir / "monitoring.sql",
        "queries": config.sql_dir / "queries",
    }
    return {name: file_hash(path) for name, path in parts.items() if path.exists()}


def build_run_metadata(
    config: Config,
    *,
    postgres_version: str,
    postgres_settings: Mapping[str, object],
    backend: str,
    index_usage: Sequence[Mapping[str, object]] = (),
    commit: str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The ``"pgperf"`` object of a results file (JSON-ready), for pytest_benchmark_update_json.

    ``commit`` defaults to the project's checked-out commit; ``created_at`` to now (UTC).
    """
    machine = machine_info()
    return {
        "format_version": FORMAT_VERSION,
        "profile": config.profile,
        "seed": config.seed,
        "hashes": content_hashes(config),
        "postgres": {
            "version": postgres_version.split(" ", 1)[0],
            "major": postgres_major(postgres_version),
            "settings": {str(k): str(v) for k, v in postgres_settings.items()},
        },
        "backend": backend,
        "machine": {
            "fingerprint": machine.fingerprint,
            "cpu": machine.cpu,
            "cores": machine.cores,
            "memory_gb": machine.memory_gb,
            "os": machine.os,
            "python": machine.python,
        },
        "git_commit": commit if commit is not None else git_commit(config.project_root),
        "created_at": (created_at or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "index_usage": [dict(item) for item in index_usage],
    }
