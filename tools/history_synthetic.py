"""Series of runs for `pgperf history` with a known truth: real A/A noise, injected steps.

    fixture  reports/selftest-aa-ci/run*.json -> tests/unit/data/history_aa_ci.json: the
             A/A runs reduced to what a history reads (medians, p95s, work, rows, plan
             shapes, index scans), small enough to keep as test data
    copies   N results files from one real results file, with the A/A noise measured in
             the fixture (and optional steps): what `pgperf history` is timed on
    table    the detection table: over many noise draws, is a +30% median step and a +25%
             buffers step found at the right run, and how many other change points appear?

The noise model is measured, not assumed: from the A/A runs, each run's level (every
benchmark of a run moves together on a shared machine) and each benchmark's own spread
around it, in log space; buffers jitter by the relative deviations the A/A runs showed.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "unit" / "data" / "history_aa_ci.json"
_TIMES = ("median_ms", "p95_ms", "p50_ms", "p99_ms", "server_ms")


# --------------------------------------------------------------------------- the fixture


def derive_fixture(paths: Sequence[Path]) -> dict[str, Any]:
    """The compact form of real results files: only what a history reads."""
    from pgperf.verdict.history import plan_shape
    from pgperf.verdict.results import load_results

    runs = []
    meta: dict[str, Any] = {}
    for path in paths:
        data = json.loads(path.read_text())
        meta = meta or {k: v for k, v in data["pgperf"].items() if k != "index_usage"}
        parsed = load_results(path)
        runs.append(
            {
                "created_at": parsed.meta.created_at,
                "git_commit": parsed.meta.git_commit,
                "index_scans": {u.index: u.scans for u in parsed.meta.index_usage},
                "index_tables": {u.index: u.table for u in parsed.meta.index_usage},
                "benchmarks": {
                    str(b.key): {
                        "median_ms": round(b.median_ms, 5),
                        "p95_ms": round(b.p95_ms, 5),
                        "budget_ms": b.budget_ms,
                        "buffers": b.buffers,
                        "rows": b.rows,
                        "plan_shape": plan_shape(b.plan),
                        "plan_indexes": list(b.plan_indexes),
                        "seq_scans": list(b.seq_scans),
                    }
                    for b in parsed.benchmarks
                },
            }
        )
    return {"source": [p.name for p in paths], "meta": meta, "runs": runs}


def fixture_document(fixture: Mapping[str, Any], run: Mapping[str, Any]) -> dict[str, Any]:
    """A valid results file holding one run of the fixture."""
    benchmarks = []
    for key, values in run["benchmarks"].items():
        qualified, persona, variant = key.split("|")
        feature, query = qualified.split("/")
        extra = {k: v for k, v in values.items() if k != "plan_shape" and v is not None}
        # The shape hash stands for the plan: equal shapes stay equal, others differ.
        extra["plan"] = {"Node Type": f"shape {values['plan_shape']}"}
        extra.update(key=key, feature=feature, query=query, persona=persona, variant=variant)
        benchmarks.append({"group": feature, "name": key, "extra_info": extra})
    usage = [
        {
            "index": name,
            "table": run["index_tables"].get(name, ""),
            "category": "",
            "size_bytes": 0,
            "scans": scans,
        }
        for name, scans in run["index_scans"].items()
    ]
    meta = {
        **fixture["meta"],
        "created_at": run["created_at"],
        "git_commit": run["git_commit"],
        "index_usage": usage,
    }
    return {"benchmarks": benchmarks, "pgperf": meta, "datetime": run["created_at"]}


# --------------------------------------------------------------------------- the noise


@dataclass(frozen=True)
class Noise:
    """The A/A noise: run level and per-benchmark spread (log sd), buffer jitter (relative)."""

    run_sd: float
    own_sd: Mapping[str, Mapping[str, float]]  # metric -> key -> sd
    buffer_jitter: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def own(self, metric: str, key: str) -> float:
        """A benchmark's own spread; the median spread for a benchmark A/A did not run."""
        known = self.own_sd[metric]
        return known.get(key, statistics.median(known.values()))


def measure_noise(fixture: Mapping[str, Any]) -> Noise:
    """The noise of the fixture's A/A runs."""
    runs = fixture["runs"]
    keys = sorted(set.intersection(*(set(r["benchmarks"]) for r in runs)))
    own: dict[str, dict[str, float]] = {}
    run_sds = []
    for metric in ("median_ms", "p95_ms"):
        logs = np.log([[r["benchmarks"][k][metric] for r in runs] for k in keys])
        deviations = logs - np.median(logs, axis=1, keepdims=True)
        levels = np.median(deviations, axis=0)
        run_sds.append(float(np.std(levels, ddof=1)))
        residual = deviations - levels
        own[metric] = {k: float(np.std(residual[i], ddof=1)) for i, k in enumerate(keys)}
    jitter = {}
    for k in keys:
        buffers = [r["benchmarks"][k]["buffers"] for r in runs]
        if all(b for b in buffers):
            centre = statistics.median(buffers)
            jitter[k] = tuple(b / centre - 1 for b in buffers)
    return Noise(run_sd=statistics.mean(run_sds), own_sd=own, buffer_jitter=jitter)


@dataclass(frozen=True)
class Injected:
    """A step injected in one benchmark's metric from run ``at`` on (0-based)."""

    key: str  # a benchmark key, or an index name for "scans"
    metric: str  # median_ms, buffers, plan (another plan shape), scans (index unused)
    at: int
    factor: float = 1.0


def noisy_copies(
    source: Mapping[str, Any],
    noise: Noise,
    runs: int,
    *,
    seed: int,
    steps: Sequence[Injected] = (),
) -> list[dict[str, Any]]:
    """``runs`` copies of one results document, each with drawn noise and the steps."""
    rng = np.random.default_rng(seed)
    copies = []
    for j in range(runs):
        doc = copy.deepcopy(source)
        level = {m: rng.normal(0, noise.run_sd) for m in ("median_ms", "p95_ms")}
        for bench in doc["benchmarks"]:
            extra = bench["extra_info"]
            _jitter(extra, noise, level, rng)
            for step in steps:
                if step.key == extra["key"] and j >= step.at:
                    _scale(extra, step.metric, step.factor)
        for usage in doc["pgperf"].get("index_usage", []):
            if any(s.metric == "scans" and s.key == usage["index"] and j >= s.at for s in steps):
                usage["scans"] = 0
        stamp = f"2026-01-01T03:{j // 60:02d}:{j % 60:02d}+00:00"
        doc["pgperf"] = {**doc["pgperf"], "created_at": stamp, "git_commit": None}
        doc["datetime"] = stamp
        copies.append(doc)
    return copies


def _jitter(
    extra: dict[str, Any], noise: Noise, level: Mapping[str, float], rng: np.random.Generator
) -> None:
    key = extra["key"]
    median = math.exp(level["median_ms"] + rng.normal(0, noise.own("median_ms", key)))
    tail = math.exp(level["p95_ms"] + rng.normal(0, noise.own("p95_ms", key)))
    for name in _TIMES:
        if extra.get(name) is not None:
            extra[name] *= tail if name in ("p95_ms", "p99_ms") else median
    if extra.get("samples_ms"):
        extra["samples_ms"] = [s * median for s in extra["samples_ms"]]
    jitter = noise.buffer_jitter.get(key)
    if jitter and extra.get("buffers"):
        extra["buffers"] = round(extra["buffers"] * (1 + float(rng.choice(jitter))))


def _scale(extra: dict[str, Any], metric: str, factor: float) -> None:
    if metric == "plan":
        extra["plan"] = {"Node Type": "Seq Scan", "Plans": [extra.get("plan")]}
        extra["plan_indexes"], extra["seq_scans"] = [], ["tasks"]
        return
    if metric == "buffers":
        extra["buffers"] = round(extra["buffers"] * factor)
        return
    if extra.get("median_ms") is not None:
        extra["median_ms"] *= factor
    if extra.get("samples_ms"):
        # The reader takes the median of the samples: scale the middle without the tail.
        p95 = extra["p95_ms"]
        extra["samples_ms"] = [s * factor if s < p95 else s for s in extra["samples_ms"]]


# --------------------------------------------------------------------------- commands


def _write(docs: Sequence[Mapping[str, Any]], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, doc in enumerate(docs, 1):
        path = out / f"run{i:02d}.json"
        path.write_text(json.dumps(doc))
        paths.append(path)
    return paths


def _table(args: argparse.Namespace) -> int:
    from pgperf.verdict.changepoints import Detection
    from pgperf.verdict.history import build_history, order_runs
    from pgperf.verdict.results import parse_results

    fixture = json.loads(FIXTURE.read_text())
    noise = measure_noise(fixture)
    source = fixture_document(fixture, fixture["runs"][0])
    keys = sorted(source_key(b) for b in source["benchmarks"])
    # A work change must move more than 2 buffers (Detection.work_floor): 25% of 12 or more.
    with_buffers = [k for k in keys if k in noise.buffer_jitter and _buffers(source, k) >= 12]
    rows = []
    start = time.monotonic()
    for seed in range(args.seeds):
        latency_key = keys[seed % len(keys)]
        work_key = with_buffers[(seed * 7 + 3) % len(with_buffers)]
        if work_key == latency_key:
            work_key = with_buffers[(seed * 7 + 4) % len(with_buffers)]
        steps = [
            Injected(latency_key, "median_ms", args.latency_at, 1.30),
            Injected(work_key, "buffers", args.work_at, 1.25),
        ]
        docs = noisy_copies(source, noise, args.runs, seed=seed, steps=steps)
        files = [parse_results(d, path=Path(f"run{i}.json")) for i, d in enumerate(docs)]
        runs, _ = order_runs(files, lambda _c: None)
        points = build_history(runs, detection=Detection(max_pvalue=args.pvalue)).change_points
        rows.append({**_score(points, steps), "sd": noise.own("median_ms", latency_key)})
    _print_table(args, noise, rows, time.monotonic() - start)
    return 0


def _buffers(source: Mapping[str, Any], key: str) -> int:
    return next(
        int(b["extra_info"]["buffers"]) for b in source["benchmarks"] if source_key(b) == key
    )


def source_key(bench: Mapping[str, Any]) -> str:
    """A benchmark's key in a results document."""
    return str(bench["extra_info"]["key"])


def _score(points: Sequence[Any], steps: Sequence[Injected]) -> dict[str, Any]:
    score: dict[str, Any] = {"false": 0}
    for step in steps:
        hits = [p.position for p in points if p.subject == step.key and p.metric == step.metric]
        score[step.metric] = (
            "exact"
            if step.at in hits
            else ("±1" if any(abs(h - step.at) == 1 for h in hits) else "missed")
        )
    targets = {(s.key, s.metric) for s in steps}
    score["false"] = sum(
        1
        for p in points
        if (p.subject, p.metric) not in targets
        or all(abs(p.position - s.at) > 1 for s in steps if (s.key, s.metric) == p.ident)
    )
    return score


def _print_table(
    args: argparse.Namespace, noise: Noise, rows: Sequence[Mapping[str, Any]], seconds: float
) -> None:
    spreads = sorted(noise.own_sd["median_ms"].values())
    print(
        f"noise measured on {FIXTURE.name}: run level sd {noise.run_sd:.3f} (log), own sd of "
        f"medians {spreads[0]:.3f}..{spreads[-1]:.3f} (median {statistics.median(spreads):.3f})"
    )
    print(
        f"{args.seeds} series of {args.runs} runs; +30% median at run {args.latency_at + 1}, "
        f"+25% buffers at run {args.work_at + 1} (each seed another benchmark)"
    )
    print("| step | found at the right run | one run off | missed |")
    print("|---|---|---|---|")
    buckets = (("quiet", 0.0, 0.1), ("typical", 0.1, 0.2), ("noisy", 0.2, 9.0))
    for name, low, high in buckets:
        got = [r["median_ms"] for r in rows if low <= r["sd"] < high]
        label = f"+30% median, {name} benchmark (own sd {low:g}-{high:g})".replace("-9", "+")
        print(f"| {label} | {got.count('exact')} | {got.count('±1')} | {got.count('missed')} |")
    got = [r["buffers"] for r in rows]
    print(f"| +25% buffers | {got.count('exact')} | {got.count('±1')} | {got.count('missed')} |")
    false = [r["false"] for r in rows]
    print(
        f"false change points: {sum(false)} in {len(rows)} histories "
        f"({sum(1 for f in false if f)} histories with any) · {seconds:.1f} s"
    )


def _parse_step(text: str) -> Injected:
    key, _, rest = text.rpartition("=")
    metric, at, *factor = rest.split(":")
    return Injected(key, metric, int(at) - 1, float(factor[0]) if factor else 1.0)


def main(argv: list[str] | None = None) -> int:
    """fixture | copies | table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    fix = sub.add_parser("fixture", help="derive the compact A/A fixture")
    fix.add_argument("runs", nargs="+", type=Path)
    fix.add_argument("-o", "--output", type=Path, default=FIXTURE)
    cop = sub.add_parser("copies", help="noisy copies of one real results file")
    cop.add_argument("source", type=Path)
    cop.add_argument("--runs", type=int, default=30)
    cop.add_argument("--seed", type=int, default=1)
    cop.add_argument("-o", "--output", type=Path, required=True)
    cop.add_argument(
        "--step",
        action="append",
        default=[],
        metavar="KEY=METRIC:RUN:FACTOR",
        help="inject a step from a run on (1-based): 'KEY=median_ms:16:1.3', "
        "'KEY=buffers:21:1.25', 'KEY=plan:24' (another plan), 'INDEX=scans:24' (unused)",
    )
    tab = sub.add_parser("table", help="the detection table over many noise draws")
    tab.add_argument("--seeds", type=int, default=50)
    tab.add_argument("--runs", type=int, default=30)
    tab.add_argument("--latency-at", type=int, default=15)
    tab.add_argument("--work-at", type=int, default=20)
    tab.add_argument("--pvalue", type=float, default=1e-5, help="Detection.max_pvalue")
    args = parser.parse_args(argv)
    if args.what == "fixture":
        fixture = derive_fixture(sorted(args.runs))
        args.output.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
        print(f"{args.output}: {args.output.stat().st_size / 1024:.0f} kB")
        return 0
    if args.what == "copies":
        noise = measure_noise(json.loads(FIXTURE.read_text()))
        steps = [_parse_step(text) for text in args.step]
        source = json.loads(args.source.read_text())
        docs = noisy_copies(source, noise, args.runs, seed=args.seed, steps=steps)
        paths = _write(docs, args.output)
        print(f"{len(paths)} results files in {args.output}")
        return 0
    return _table(args)


if __name__ == "__main__":
    sys.exit(main())
