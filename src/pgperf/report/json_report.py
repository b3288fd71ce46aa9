"""The verdict as JSON for tools: CI steps, the HTML report's readers, dashboards.

``{"format": "pgperf-verdict", "version": 1, ...}``: the headline and whether the gate
failed, why latency may not gate, the notes, and per benchmark its key, status, first
failing rule and every finding; per feature its summary.
"""

from __future__ import annotations

import json
from typing import Any

from pgperf.verdict.findings import BenchmarkVerdict
from pgperf.verdict.verdict import FeatureSummary, Verdict

FORMAT = "pgperf-verdict"
VERSION = 1


def _side(bench: BenchmarkVerdict, attribute: str) -> dict[str, Any]:
    return {
        "baseline": getattr(bench.baseline, attribute) if bench.baseline else None,
        "current": getattr(bench.current, attribute) if bench.current else None,
    }


def benchmark_json(bench: BenchmarkVerdict) -> dict[str, Any]:
    """One benchmark's verdict."""
    return {
        "key": str(bench.key),
        "feature": bench.feature,
        "status": bench.status.value,
        "rule": bench.rule.value if bench.rule else None,
        "reason": bench.reason,
        "findings": [
            {"rule": f.rule.value, "kind": f.kind.value, "message": f.message}
            for f in bench.findings
        ],
        "change": bench.change,
        "p_value": bench.p_value,
        "median_ms": _side(bench, "median_ms"),
        "p95_ms": _side(bench, "p95_ms"),
        "buffers": _side(bench, "buffers"),
        "temp_blocks": _side(bench, "temp_blocks"),
        "wal_bytes": _side(bench, "wal_bytes"),
        "budget_ms": bench.current.budget_ms if bench.current else None,
    }


def feature_json(feature: FeatureSummary) -> dict[str, Any]:
    """One feature's summary."""
    return {
        "feature": feature.feature,
        "status": feature.status.value,
        "p95_ms": feature.p95_ms,
        "budget_ms": feature.budget_ms,
        "change": feature.change,
        "benchmarks": feature.benchmarks,
        "failures": feature.failures,
    }


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """The whole verdict as a JSON-ready object."""
    t = verdict.thresholds
    return {
        "format": FORMAT,
        "version": VERSION,
        "headline": verdict.headline,
        "failed": verdict.failed,
        "profile": verdict.profile,
        "has_baseline": verdict.has_baseline,
        "latency_gates": verdict.latency_gates,
        "latency_note": verdict.latency_note,
        "notes": list(verdict.notes),
        "warnings": list(verdict.warnings),
        "baseline": verdict.baseline_origin,
        "results": verdict.results_origin,
        "thresholds": {
            "regression": t.regression,
            "latency_floor_ms": t.latency_floor_ms,
            "significance": t.significance,
            "busy_pressure": t.busy_pressure,
        },
        "benchmarks": [benchmark_json(b) for b in verdict.benchmarks],
        "features": [feature_json(f) for f in verdict.features],
    }


def render_json(verdict: Verdict) -> str:
    """The verdict as indented JSON text."""
    return json.dumps(verdict_json(verdict), indent=2) + "\n"
