"""What the performance indexes cost: build time, size, and write overhead on one task INSERT.

Re-runnable (`make bench-indexes PROFILE=default`): seeds (or reuses) the profile's template,
clones it twice, applies sql/performance_indexes.sql + sql/monitoring.sql to one clone, then
times single-row task INSERTs on both clones interleaved in the same run (so drift and noise
hit both arms alike). Prints a summary and writes reports/bench_indexes_<profile>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from pgperf.config import Config, resolve_config
from pgperf.data import database
from pgperf.data.seeding import ensure_seeded_template
from pgperf.indexes.apply import apply_index_file, apply_monitoring
from pgperf.progress import make_reporter
from pgperf.provision import ServerHandle

SQL = Path(__file__).parent / "sql"
PAYLOAD = {
    "prompt": "Write a product description for a waterproof hiking backpack, 120 words.",
    "temperature": 0.7,
    "max_tokens": 512,
    "parameters": {"top_p": 0.95, "style": "friendly"},
}


def _row(dsn: str, name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    with database.connect(dsn) as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute((SQL / name).read_text(), params).fetchone()
    assert row is not None, f"{name} returned no row"
    return row


def _build(dsn: str, config: Config) -> dict[str, Any]:
    """Apply indexes, monitoring and ANALYZE on ``dsn``; time each stage."""
    with database.connect(dsn) as conn:
        report = apply_index_file(
            conn, config.layout.index_file, reporter=make_reporter(enabled=True)
        )
        started = time.perf_counter()
        apply_monitoring(conn, config.layout.monitoring_file)
        monitoring_s = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("ANALYZE")
        analyze_s = time.perf_counter() - started
    slowest = sorted(report.indexes, key=lambda i: i.seconds, reverse=True)[:3]
    return {
        "indexes": len(report.indexes),
        "apply_index_file_s": round(report.seconds, 2),
        "monitoring_s": round(monitoring_s, 2),
        "analyze_s": round(analyze_s, 2),
        "slowest": [
            {"index": i.name, "table": i.table, "seconds": round(i.seconds, 2)} for i in slowest
        ],
    }


def _time_inserts(plain: str, indexed: str, *, rounds: int, warmup: int) -> dict[str, Any]:
    """Per-INSERT wall time (ms) on both clones, interleaved, alternating which goes first."""
    refs = _row(plain, "task_refs.sql")
    params = {**refs, "payload": Jsonb(PAYLOAD)}
    statement = (SQL / "insert_task.sql").read_text()
    samples: dict[str, list[float]] = {"without": [], "with": []}
    with database.connect(plain) as a, database.connect(indexed) as b:
        arms = (("without", a), ("with", b))
        for i in range(warmup + rounds):
            for label, conn in arms if i % 2 == 0 else arms[::-1]:
                started = time.perf_counter()
                conn.execute(statement, params, prepare=True)
                if i >= warmup:
                    samples[label].append((time.perf_counter() - started) * 1000)
    result: dict[str, Any] = {"rounds": rounds}
    for label, values in samples.items():
        ordered = sorted(values)
        result[label] = {
            "p50_ms": round(statistics.median(ordered), 4),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 4),
            "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 4),
        }
    result["p50_overhead_x"] = round(result["with"]["p50_ms"] / result["without"]["p50_ms"], 2)
    return result


def measure(server: ServerHandle, config: Config, *, rounds: int) -> dict[str, Any]:
    """Seed or reuse, clone twice, build the indexes on one clone, time inserts on both."""
    seeded = ensure_seeded_template(server, config, reporter=make_reporter(enabled=True))
    with (
        database.scratch_database(server, template=seeded.name, label="noidx") as plain,
        database.scratch_database(server, template=seeded.name, label="idx") as indexed,
    ):
        build = _build(indexed, config)
        sizes = _row(indexed, "sizes.sql")
        with database.connect(indexed) as conn, conn.cursor(row_factory=dict_row) as cur:
            largest = cur.execute(
                (SQL / "largest_indexes.sql").read_text(), {"limit": 5}
            ).fetchall()
        writes = _time_inserts(plain, indexed, rounds=rounds, warmup=max(rounds // 10, 50))
    return {
        "profile": config.profile,
        "postgres": server.version,
        "seeded_template": seeded.name,
        "build": build,
        "sizes": sizes,
        "largest_indexes": largest,
        "task_insert": writes,
    }


def _summary(result: dict[str, Any]) -> str:
    build, sizes, writes = result["build"], result["sizes"], result["task_insert"]
    mib = 1048576
    lines = [
        f"profile {result['profile']} on PostgreSQL {result['postgres']}",
        f"apply {build['indexes']} indexes: {build['apply_index_file_s']}s "
        f"(+ monitoring.sql {build['monitoring_s']}s, ANALYZE {build['analyze_s']}s)",
        "slowest: " + ", ".join(f"{s['index']} {s['seconds']}s" for s in build["slowest"]),
        f"tables (heap+TOAST) {sizes['table_bytes'] / mib:,.0f} MiB; "
        f"PK/UNIQUE indexes {sizes['constraint_index_bytes'] / mib:,.0f} MiB; "
        f"performance indexes {sizes['performance_index_bytes'] / mib:,.0f} MiB "
        f"({sizes['performance_index_bytes'] / sizes['table_bytes']:.0%} of tables); "
        f"MVs {sizes['matview_bytes'] / mib:,.1f} MiB",
        f"task INSERT p50: without {writes['without']['p50_ms']} ms, with "
        f"{writes['with']['p50_ms']} ms (x{writes['p50_overhead_x']}); p95 "
        f"{writes['without']['p95_ms']} vs {writes['with']['p95_ms']} ms "
        f"({writes['rounds']} interleaved rounds)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--backend", default=None)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args(argv)
    config = resolve_config(cli={"profile": args.profile, "backend": args.backend})
    with database.provisioned(config) as server:
        result = measure(server, config, rounds=args.rounds)
    out = config.reports / f"bench_indexes_{config.profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(_summary(result))
    print(f"written: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
