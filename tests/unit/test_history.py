"""The history: runs in commit order, change points where they are and nowhere else.

The noise is real: tests/unit/data/history_aa_ci.json holds 8 unchanged ci runs of this
machine (`make selftest-aa RUNS=8`, reduced by tools/history_synthetic.py fixture), and the
synthetic series repeat its first run with the run-to-run spread measured on all eight.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pgperf.commands.cli import main
from pgperf.verdict.changepoints import Detection, work_steps
from pgperf.verdict.history import (
    ChangePoint,
    History,
    build_history,
    check_one_profile,
    order_runs,
    plan_shape,
)
from pgperf.verdict.record import ResultsFile
from pgperf.verdict.results import parse_results

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "history_synthetic", ROOT / "tools" / "history_synthetic.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["history_synthetic"] = module
    spec.loader.exec_module(module)
    return module


synth = _tool()
FIXTURE: dict[str, Any] = json.loads(synth.FIXTURE.read_text())
SOURCE = synth.fixture_document(FIXTURE, FIXTURE["runs"][0])
NOISE = synth.measure_noise(FIXTURE)
LATENCY_KEY = "playground/page|median|page"
WORK_KEY = "reports/page|heavy|page"


def _files(docs: list[dict[str, Any]]) -> list[ResultsFile]:
    return [parse_results(d, path=Path(f"run{i + 1:02d}.json")) for i, d in enumerate(docs)]


def _history(docs: list[dict[str, Any]], commit_time: Any = None) -> History:
    runs, skipped = order_runs(_files(docs), commit_time or (lambda _c: None))
    return build_history(runs, skipped)


def _found(history: History) -> set[tuple[str, str, int]]:
    return {(p.subject, p.metric, p.position) for p in history.change_points}


def test_the_fixture_is_eight_unchanged_runs_of_one_commit() -> None:
    runs = FIXTURE["runs"]
    assert len(runs) == 8
    assert len({r["git_commit"] for r in runs}) == 1
    assert len(SOURCE["benchmarks"]) == 50
    # the measured spread is what the synthetic series use: sub-ms medians spread most
    assert 0.05 < NOISE.run_sd < 0.3
    assert NOISE.own("median_ms", "agents/marketplace|any|generic") > 0.3


def test_real_unchanged_runs_show_no_change_point() -> None:
    docs = [synth.fixture_document(FIXTURE, r) for r in FIXTURE["runs"]]
    history = _history(docs)
    assert len(history.runs) == 8
    assert history.change_points == ()


def test_synthetic_steps_are_found_at_their_run_and_nothing_else() -> None:
    steps = [
        synth.Injected(LATENCY_KEY, "median_ms", 15, 1.30),
        synth.Injected(WORK_KEY, "buffers", 20, 1.25),
    ]
    docs = synth.noisy_copies(SOURCE, NOISE, 30, seed=1, steps=steps)
    history = _history(docs)
    assert _found(history) == {(LATENCY_KEY, "median_ms", 15), (WORK_KEY, "buffers", 20)}
    latency = next(p for p in history.change_points if p.metric == "median_ms")
    assert latency.kind == "latency"
    assert latency.pvalue is not None
    assert latency.pvalue < 1e-5
    assert latency.change == pytest.approx(0.30, abs=0.08)
    work = next(p for p in history.change_points if p.metric == "buffers")
    assert work.pvalue is None  # exact: no statistics
    assert work.change == pytest.approx(0.25, abs=0.02)


def test_the_same_series_without_steps_shows_no_change_point() -> None:
    assert _history(synth.noisy_copies(SOURCE, NOISE, 30, seed=1)).change_points == ()


def test_a_plan_change_and_an_index_falling_out_of_use_name_the_commit() -> None:
    key = "dashboard/recent_tasks|heavy|prepared"
    steps = [synth.Injected(key, "plan", 6), synth.Injected("idx_tasks_user_created", "scans", 6)]
    docs = synth.noisy_copies(SOURCE, NOISE, 9, seed=2, steps=steps)
    for i, doc in enumerate(docs):
        doc["pgperf"]["git_commit"] = f"{i:040x}"
    history = _history(docs)
    plan = next(p for p in history.change_points if p.kind == "plan")
    assert (plan.subject, plan.position, plan.commit) == (key, 6, f"{6:040x}")
    assert "Seq Scan on tasks" in str(plan.after)
    index = next(p for p in history.change_points if p.kind == "index")
    assert (index.subject, index.position, index.after) == ("idx_tasks_user_created", 6, 0.0)
    # the newest run is not the one that changed: neither is new
    assert not plan.new
    assert not index.new


def test_a_change_in_the_newest_run_is_new() -> None:
    steps = [synth.Injected(WORK_KEY, "buffers", 8, 1.5)]
    history = _history(synth.noisy_copies(SOURCE, NOISE, 9, seed=3, steps=steps))
    (point,) = history.change_points
    assert point.new
    assert point.position == 8
    assert history.recent(1) == (point,)


def test_work_drift_is_held_against_the_level_not_the_last_run() -> None:
    # five 4% rises never differ 10% from the run before; the fourth is 10% above the
    # level (the median of the runs before it, 1061)
    values = [1000.0, 1040.0, 1082.0, 1125.0, 1170.0, 1217.0]
    assert [s.position for s in work_steps(values, Detection())] == [4]
    # jitter of the size A/A runs show is no change; a few buffers on a small count neither
    assert work_steps([133, 127, 126, 126, 130, 127, 126, 126], Detection()) == []
    assert work_steps([18, 19, 19, 18, 18, 18, 17, 17, 19, 17], Detection()) == []


def test_plan_shape_ignores_constants_but_not_structure() -> None:
    plan = {"Node Type": "Index Scan", "Index Name": "tasks_pkey", "Index Cond": "(id = 200232)"}
    same = {**plan, "Index Cond": "(id = 200272)"}
    other = {**plan, "Index Name": "idx_tasks_user_created"}
    quoted = {**plan, "Filter": "(status = 'pending'::task_status)"}
    assert plan_shape(plan) == plan_shape(same)
    assert plan_shape(plan) != plan_shape(other)
    assert plan_shape(quoted) == plan_shape({**plan, "Filter": "(status = 'done'::task_status)"})
    assert plan_shape(None) is None


def _doc(created: str, commit: str | None, **meta: Any) -> dict[str, Any]:
    doc = synth.fixture_document(FIXTURE, FIXTURE["runs"][0])
    doc["pgperf"] = {**doc["pgperf"], "created_at": created, "git_commit": commit, **meta}
    return doc


def test_runs_are_ordered_by_commit_time_then_creation_and_odd_runs_left_out() -> None:
    times = {"a" * 40: datetime(2026, 1, 3, tzinfo=timezone.utc)}
    docs = [
        _doc("2026-01-01T00:00:00+00:00", "a" * 40),  # committed Jan 3, measured Jan 1
        _doc("2026-01-02T00:00:00+00:00", None),  # no commit: its creation time
        _doc("2026-01-01T12:00:00+00:00", "b" * 40 + "+dirty"),  # git does not know it
        _doc("2026-01-04T00:00:00+00:00", None, what_if={"drop_indexes": ["x"], "settings": {}}),
        _doc(
            "2026-01-05T00:00:00+00:00",
            None,
            ab={
                "arm": "head",
                "ref": "main",
                "base_commit": "c",
                "head_commit": "d",
                "pinned": True,
            },
        ),
    ]
    runs, skipped = order_runs(_files(docs), times.get)
    assert [r.results.path.name for r in runs] == ["run03.json", "run02.json", "run01.json"]
    assert runs[0].commit == "b" * 40  # +dirty is not part of the commit
    assert [(s.path.name, s.reason.split(" (")[0]) for s in skipped] == [
        ("run04.json", "a what-if run"),
        ("run05.json", "the head arm of an A/B"),
    ]


def test_a_history_refuses_runs_of_two_profiles() -> None:
    docs = [_doc("2026-01-01T00:00:00+00:00", None), _doc("2026-01-02T00:00:00+00:00", None)]
    docs[1]["pgperf"]["profile"] = "default"
    runs, _ = order_runs(_files(docs), lambda _c: None)
    with pytest.raises(Exception, match="2 profiles or seeds: ci \\(seed 42\\), default"):
        check_one_profile(runs)


# --------------------------------------------------------------------------- the command


def _write(folder: Path, docs: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, doc in enumerate(docs):
        (folder / f"run{i + 1:02d}.json").write_text(json.dumps(doc))


def test_the_command_reads_a_folder_and_writes_page_json_and_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = [synth.Injected(WORK_KEY, "buffers", 5, 1.4)]
    _write(tmp_path / "runs", synth.noisy_copies(SOURCE, NOISE, 7, seed=4, steps=steps))
    (tmp_path / "runs" / "summary.json").write_text('{"profile": "ci", "runs": 7}')
    out = tmp_path / "out"
    code = main(
        [
            "history",
            str(tmp_path / "runs"),
            "-o",
            str(out / "history.html"),
            "--json",
            str(out / "history.json"),
            "--markdown",
            str(out / "history.md"),
            "--last",
            "3",
        ]
    )
    assert code == 0
    data = json.loads((out / "history.json").read_text())
    assert data["format"] == "pgperf-history"
    assert len(data["runs"]) == 7
    (point,) = data["change_points"]
    assert point["benchmark"] == WORK_KEY
    assert (point["metric"], point["kind"], point["run"]) == ("buffers", "work", 6)
    assert point["change"] == pytest.approx(0.4, abs=0.02)
    assert set(point) >= {"commit", "date", "before", "after", "pvalue", "new", "file"}
    assert WORK_KEY.replace("|", "\\|") in (out / "history.md").read_text()
    page = (out / "history.html").read_text()
    assert "Content-Security-Policy" in page
    assert "<script" not in page
    assert f'data-subject="{WORK_KEY}"' in page
    assert "run 6" in capsys.readouterr().out


def test_the_command_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    _write(tmp_path / "one", [SOURCE])
    assert main(["history", str(tmp_path / "one")]) == 2
    assert "at least two results files; found 1" in capsys.readouterr().err
    whatif = _doc(
        "2026-01-04T00:00:00+00:00", None, what_if={"drop_indexes": ["x"], "settings": {}}
    )
    _write(tmp_path / "whatif", [SOURCE, whatif])
    assert main(["history", str(tmp_path / "whatif"), "-o", str(tmp_path / "h.html")]) == 2
    assert "only 1 of the 2 results files are normal runs" in capsys.readouterr().err


def test_change_points_carry_what_the_json_promises() -> None:
    fields = set(ChangePoint.__dataclass_fields__)
    assert {
        "subject",
        "metric",
        "position",
        "commit",
        "date",
        "before",
        "after",
        "change",
    } <= fields
