"""`pgperf history RESULTS... | DIR`: trends, change points and index use across runs."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from pgperf.config import Config
from pgperf.errors import EXIT_PASS, ResultsFileError
from pgperf.options import add_options
from pgperf.verdict.record import ResultsFile
from pgperf.verdict.results import load_results, write_file

#: The change points the page opens on: those of the last week of nightly runs.
DEFAULT_LAST = 7


def _is_results(path: Path) -> bool:
    # In a folder only results files count: verdicts, summaries and A/A bookkeeping sit
    # beside them. pytest-benchmark writes "benchmarks" after two short objects.
    with path.open("rb") as handle:
        return b'"benchmarks"' in handle.read(16384)


def collect(paths: list[str]) -> list[Path]:
    """The results files named, and those found under the folders named (``**/*.json``)."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found += [p for p in sorted(path.rglob("*.json")) if p.is_file() and _is_results(p)]
        elif path.exists():
            found.append(path)
        else:
            raise ResultsFileError(
                f"{path} does not exist (checked the path as given, relative to {Path.cwd()}).",
                hint="name results files (reports/results.json) or folders that hold them",
            )
    return found


def load_all(paths: list[Path]) -> list[ResultsFile]:
    """Every file read and validated; at least two, or there is no history."""
    files = [load_results(p) for p in paths]
    if len(files) < 2:
        raise ResultsFileError(
            f"a history needs at least two results files; found {len(files)} "
            "(checked each path given, and *.json under each folder).",
            hint="pass more runs, e.g. the downloaded perf-report-default artifacts of main",
        )
    return files


def run(args: argparse.Namespace, config: Config) -> int:
    """Read the runs, find the change points, write the page and the files asked for."""
    from pgperf.host import commit_time
    from pgperf.report.history_html import render_history_html
    from pgperf.report.history_text import (
        history_lines,
        render_history_json,
        render_history_markdown,
    )
    from pgperf.verdict.history import build_history, check_one_profile, order_runs

    if args.last < 1:
        raise ResultsFileError(
            f"--last {args.last}: the page opens on the change points of the last N runs, "
            "N at least 1.",
            hint="e.g. --last 7",
        )
    files = load_all(collect(args.results))
    known: dict[str, datetime | None] = {}

    def when(commit: str) -> datetime | None:
        if commit not in known:
            known[commit] = commit_time(config.project_root, commit)
        return known[commit]

    runs, skipped = order_runs(files, when)
    if len(runs) < 2:
        raise ResultsFileError(
            f"only {len(runs)} of the {len(files)} results files are normal runs (the others "
            "are what-if runs or A/B arms, which a history leaves out).",
            hint="pass the results of normal runs (make perf, the nightly artifacts)",
        )
    check_one_profile(runs)
    history = build_history(runs, skipped)
    output = Path(args.output) if args.output else config.reports / "history.html"
    # Files first: a failed write must not follow a printed summary.
    if args.json:
        write_file(Path(args.json), render_history_json(history), role="history JSON")
    if args.markdown:
        write_file(
            Path(args.markdown), render_history_markdown(history, last=args.last), role="summary"
        )
    size = write_file(output, render_history_html(history, last=args.last), role="history page")
    print("\n".join(history_lines(history, last=args.last)))
    print(f"history page: {output} ({size / 1024:.0f} kB)")
    for label, path in (("history JSON", args.json), ("markdown summary", args.markdown)):
        if path:
            print(f"{label}: {path}")
    return EXIT_PASS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`history`."""
    parser = sub.add_parser(
        "history",
        help="trends and change points across runs (latency, work, plans, index use)",
        description="Read results files (or folders of them), order them by commit, and find "
        "where each benchmark's latency, work, rows or plan changed, and when an index "
        "stopped being used. What-if runs and A/B arms are left out.",
    )
    parser.add_argument(
        "results", nargs="+", metavar="RESULTS|DIR", help="results files or folders"
    )
    parser.add_argument("-o", "--output", help="the HTML page (default reports/history.html)")
    parser.add_argument("--json", metavar="FILE", help="also write every change point as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="also write a job-summary table")
    parser.add_argument(
        "--last",
        type=int,
        default=DEFAULT_LAST,
        metavar="N",
        help=f"the page opens on the change points of the last N runs (default {DEFAULT_LAST})",
    )
    add_options(parser.add_argument, ("paths",))
    parser.set_defaults(handler=run)
