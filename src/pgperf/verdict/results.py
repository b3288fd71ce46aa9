"""Results and baseline files: read and validate them into records, write them, promote them.

A results file is pytest-benchmark's JSON plus a top-level ``"pgperf"`` object (see
docs/ARCHITECTURE.md, "Results file"). Reading one gives the frozen records of
``pgperf.verdict.record``; every problem with a file is a ``ResultsFileError`` that says what
failed, what was checked and what to do. Format 1 files are read too (their records lack
the facts format 2 added, and the rules fall back to what format 1 could say).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pgperf.config import PROFILE_NAME
from pgperf.errors import ResultsFileError
from pgperf.files import InputTooLarge, atomic_write, read_text_capped
from pgperf.host import MachineInfo
from pgperf.stats import median, percentile
from pgperf.verdict.record import (
    READABLE_VERSIONS,
    AbArm,
    BenchmarkKey,
    BenchmarkRecord,
    IndexUsage,
    PostgresInfo,
    ResultsFile,
    RunMetadata,
    WhatIf,
    typed_fields,
)
from pgperf.verdict.validate import Invalid, check, count, flag, get, measure, names, opt

#: What a file must hold, said in every "corrupt file" message.
_EXPECTED = (
    'pytest-benchmark JSON with a "benchmarks" list (each with extra_info.key and '
    'samples_ms or stats) and a top-level "pgperf" object (format_version, profile, seed, '
    "postgres, machine, ...)"
)
_KEY_FIELDS = frozenset({"key", "feature", "query", "persona", "variant"})


# --------------------------------------------------------------------------- records


def _median_ms(
    samples: tuple[float, ...], written: float | None, stats: Mapping[str, Any], where: str
) -> float:
    if samples:
        return median(samples)
    if written is not None:
        return written
    if isinstance(stats.get("median"), (int, float)) and not isinstance(stats["median"], bool):
        # pytest-benchmark times are in seconds
        return measure(float(stats["median"]) * 1000, f"{where}: stats.median")
    raise Invalid(f"{where} has neither extra_info.samples_ms nor stats.median")


def _parse_benchmark(raw: Any, index: int) -> BenchmarkRecord:
    where = f"benchmarks[{index}]"
    if not isinstance(raw, dict):
        raise Invalid(f"{where} is not an object")
    name = str(raw.get("name") or raw.get("fullname") or where)
    extra = get(raw, "extra_info", f"{where} ({name})", dict)
    where = f"{where}.extra_info ({name})"
    try:
        key = BenchmarkKey.parse(get(extra, "key", where, str))
    except ValueError as exc:
        raise Invalid(f"{where}.key: {exc}") from None
    values = {
        spec.name: check(spec.metadata["kind"], extra[spec.name], f"{where}.{spec.name}")
        for spec in typed_fields()
        if extra.get(spec.name) is not None
    }
    samples = values.get("samples_ms", ())
    stats: Mapping[str, Any] = raw["stats"] if isinstance(raw.get("stats"), dict) else {}
    middle = _median_ms(samples, values.pop("median_ms", None), stats, where)
    p95 = values.get("p95_ms")
    known = _KEY_FIELDS | {spec.name for spec in typed_fields()}
    return BenchmarkRecord(
        key=key,
        name=name,
        median_ms=middle,
        **{**values, "p95_ms": p95 if p95 is not None else _p95(samples, middle)},
        details={k: v for k, v in extra.items() if k not in known},
    )


def _p95(samples: tuple[float, ...], middle: float) -> float:
    return percentile(samples, 95) if samples else middle


def _parse_machine(raw: Mapping[str, Any]) -> MachineInfo:
    where = "pgperf.machine"
    memory = opt(raw, "memory_gb", where, (int, float))
    return MachineInfo(
        fingerprint=get(raw, "fingerprint", where, str),
        cpu=str(raw.get("cpu") or ""),
        cores=count(raw["cores"], f"{where}.cores") if raw.get("cores") is not None else 0,
        memory_gb=int(measure(memory, f"{where}.memory_gb")) if memory is not None else 0,
        os=str(raw.get("os") or ""),
        python=str(raw.get("python") or ""),
        instance=str(raw.get("instance") or ""),
    )


def _parse_postgres(raw: Mapping[str, Any]) -> PostgresInfo:
    where = "pgperf.postgres"
    settings = opt(raw, "settings", where, dict) or {}
    return PostgresInfo(
        version=str(get(raw, "version", where, (str, int, float))),
        major=count(get(raw, "major", where, int), f"{where}.major"),
        settings={str(k): str(v) for k, v in settings.items()},
    )


def _parse_index_usage(raw: Any) -> tuple[IndexUsage, ...]:
    items = raw if isinstance(raw, list) else []
    usage = []
    for i, item in enumerate(items):
        where = f"pgperf.index_usage[{i}]"
        if not isinstance(item, dict):
            raise Invalid(f"{where} is not an object")
        used = item.get("used_by_benchmarks")
        usage.append(
            IndexUsage(
                index=get(item, "index", where, str),
                table=str(item.get("table") or ""),
                category=str(item.get("category") or ""),
                size_bytes=count(item.get("size_bytes") or 0, f"{where}.size_bytes"),
                scans=count(item.get("scans") or 0, f"{where}.scans"),
                # format 1 wrote a boolean here in some runs: it names no benchmark
                used_by_benchmarks=names(used, f"{where}.used_by_benchmarks")
                if isinstance(used, list)
                else (),
            )
        )
    return tuple(usage)


def _parse_what_if(raw: Any) -> WhatIf:
    if not isinstance(raw, dict):
        return WhatIf()
    dropped = names(raw.get("drop_indexes") or [], "pgperf.what_if.drop_indexes")
    settings = raw.get("settings") or {}
    if not isinstance(settings, dict):
        raise Invalid("pgperf.what_if.settings must be an object")
    statements = names(raw.get("sql") or [], "pgperf.what_if.sql")
    return WhatIf(dropped, tuple((str(k), str(v)) for k, v in settings.items()), statements)


def _parse_ab(raw: Any) -> AbArm | None:
    if raw is None:
        return None
    where = "pgperf.ab"
    if not isinstance(raw, dict):
        raise Invalid(f"{where} is not an object")
    arm = get(raw, "arm", where, str)
    if arm not in ("base", "head"):
        raise Invalid(f"{where}.arm is {arm!r}, not 'base' or 'head'")
    return AbArm(
        arm="base" if arm == "base" else "head",
        ref=get(raw, "ref", where, str),
        base_commit=get(raw, "base_commit", where, str),
        head_commit=get(raw, "head_commit", where, str),
        pinned=flag(get(raw, "pinned", where, bool), f"{where}.pinned"),
        pinning=str(raw.get("pinning") or ""),
    )


def _parse_meta(raw: Mapping[str, Any], version: int) -> RunMetadata:
    where = "pgperf"
    hashes = opt(raw, "hashes", where, dict) or {}
    profile = get(raw, "profile", where, str)
    if not PROFILE_NAME.match(profile):
        raise Invalid(
            f"pgperf.profile {profile!r} is not a profile name (lowercase letters, digits "
            "and _, at most 20): it would name files outside baselines/"
        )
    return RunMetadata(
        format_version=version,
        profile=profile,
        seed=count(get(raw, "seed", where, int), f"{where}.seed"),
        postgres=_parse_postgres(get(raw, "postgres", where, dict)),
        machine=_parse_machine(get(raw, "machine", where, dict)),
        backend=str(raw.get("backend") or ""),
        hashes={str(k): str(v) for k, v in hashes.items()},
        git_commit=opt(raw, "git_commit", where, str),
        created_at=str(raw.get("created_at") or ""),
        index_usage=_parse_index_usage(raw.get("index_usage")),
        what_if=_parse_what_if(raw.get("what_if")),
        ab=_parse_ab(raw.get("ab")),
    )


def _check_unique(benchmarks: Sequence[BenchmarkRecord]) -> None:
    seen: set[BenchmarkKey] = set()
    for bench in benchmarks:
        if bench.key in seen:
            raise Invalid(f"two benchmarks share the key {str(bench.key)!r} (keys must be unique)")
        seen.add(bench.key)


# --------------------------------------------------------------------------- reading


def parse_results(data: Any, *, path: Path, role: str = "results file") -> ResultsFile:
    """Validate decoded JSON as a results file; raise ResultsFileError on any problem."""
    try:
        if not isinstance(data, dict):
            raise Invalid(f"the top level is {type(data).__name__}, not an object")
        benchmarks_raw = get(data, "benchmarks", "the top level", list)
        if not isinstance(data.get("pgperf"), dict):
            raise Invalid(
                'there is no top-level "pgperf" object (a plain pytest-benchmark file, '
                "not written by the pgperf suite?)"
            )
        version = _check_version(data["pgperf"], path, role)
        meta = _parse_meta(data["pgperf"], version)
        benchmarks = tuple(_parse_benchmark(b, i) for i, b in enumerate(benchmarks_raw))
        if not benchmarks:
            raise Invalid(
                "it holds no benchmarks (did the run select no perf test, or stop early?)"
            )
        _check_unique(benchmarks)
    except Invalid as exc:
        raise ResultsFileError(
            f"{role} {path} is not a valid pgperf results file: {exc}. "
            f"It was checked for {_EXPECTED}.",
            hint=_rerun_hint(role),
        ) from None
    return ResultsFile(path=path, meta=meta, benchmarks=benchmarks)


def _check_version(meta: Mapping[str, Any], path: Path, role: str) -> int:
    version: int = get(meta, "format_version", "pgperf", int)
    if version not in READABLE_VERSIONS:
        newer = "a newer" if version > max(READABLE_VERSIONS) else "an older"
        readable = ", ".join(map(str, READABLE_VERSIONS))
        raise ResultsFileError(
            f"{role} {path} has results format version {version}, probably written by {newer} "
            f"pgperf; this pgperf reads format versions {readable}.",
            hint="record it again with this pgperf (`make perf`, then `make baseline` for a "
            "baseline), or compare with the pgperf version that wrote it",
        )
    return version


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
        text = read_text_capped(path)
    except FileNotFoundError:
        raise ResultsFileError(
            f"{role} {path} does not exist (checked the path as given, relative to {Path.cwd()}).",
            hint=_rerun_hint(role),
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        too_large = isinstance(exc, InputTooLarge)
        raise ResultsFileError(
            f"cannot read {role} {path}: {detail}.",
            hint="a results file is a few MiB of JSON: check the path"
            if too_large
            else "check that the path names a readable UTF-8 JSON file (permissions, not a folder)",
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsFileError(
            f"{role} {path} is corrupt: not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}). It was checked for {_EXPECTED}.",
            hint=_rerun_hint(role),
        ) from None
    except (RecursionError, ValueError):  # nesting, or an integer of thousands of digits
        raise ResultsFileError(
            f"{role} {path} is corrupt: its JSON nests deeper, or holds larger numbers, than "
            "any results file does. "
            f"It was checked for {_EXPECTED}.",
            hint=_rerun_hint(role),
        ) from None
    return parse_results(data, path=path, role=role)


def check_comparable(baseline: ResultsFile, results: ResultsFile) -> None:
    """Refuse a baseline measured on other data (another profile or seed) than the results."""
    check_same_data(baseline, results.meta, f"results {results.path}")


def check_same_data(baseline: ResultsFile, meta: RunMetadata, what: str) -> None:
    """Refuse a baseline whose profile or seed differ from those of ``meta`` (named ``what``)."""
    base = baseline.meta
    if (base.profile, base.seed) == (meta.profile, meta.seed):
        return
    raise ResultsFileError(
        f"baseline {baseline.path} was recorded on profile {base.profile!r} seed {base.seed}, "
        f"but {what} on profile {meta.profile!r} seed {meta.seed}; timings and "
        "buffers of different data volumes cannot be compared (checked the profile and seed "
        'of both "pgperf" objects).',
        hint=f"compare with baselines/{meta.profile}.json, or rerun the suite with "
        f"--profile {base.profile} --seed {base.seed}",
    )


# --------------------------------------------------------------------------- writing


def promote(results_path: Path, baseline_path: Path) -> ResultsFile:
    """Validate a results file, then copy it to ``baseline_path`` atomically; return it parsed."""
    parsed = load_results(results_path)
    if parsed.meta.what_if:
        raise ResultsFileError(
            f"results file {results_path} comes from a what-if run (an index dropped or a "
            "setting changed on purpose, see its pgperf.what_if): it is not a baseline.",
            hint="promote the results of a normal run (`make perf`, then `make baseline`)",
        )
    # Verbatim: keeps pytest-benchmark's own fields.
    write_file(baseline_path, results_path.read_bytes(), role="baseline")
    return parsed


def write_file(path: Path, data: bytes | str, *, role: str) -> int:
    """Write a results, baseline or report file atomically; an OS error says which and why."""
    try:
        return atomic_write(path, data)
    except OSError as exc:
        raise ResultsFileError(
            f"cannot write the {role} {path}: {exc.strerror or exc}; nothing was written "
            "(the old file, if any, is unchanged).",
            hint="check that the folder exists, is writable and has free space, and that "
            "the path is not a folder",
        ) from None
