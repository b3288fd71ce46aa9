"""`pgperf report RESULTS [--baseline B] -o FILE`: the verdict as one self-contained HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgperf.commands.compare import stored_baseline
from pgperf.config import Config
from pgperf.errors import EXIT_PASS
from pgperf.options import add_options
from pgperf.verdict.findings import Thresholds
from pgperf.verdict.results import load_results, write_file
from pgperf.verdict.verdict import judge_files


def run(args: argparse.Namespace, config: Config) -> int:
    """Render the page; its verdict is the one `pgperf verdict` gives the same files."""
    from pgperf.report.html import render_html

    results = load_results(Path(args.results_file))
    baseline = stored_baseline(config, results)
    verdict = judge_files(
        baseline, results, Thresholds.from_config(config), root=config.project_root
    )
    output = Path(args.output) if args.output else config.reports / "report.html"
    size = write_file(output, render_html(verdict, results, baseline), role="HTML report")
    print(f"HTML report: {output} ({size / 1024:.0f} kB) - {verdict.headline}")
    return EXIT_PASS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`report`."""
    parser = sub.add_parser("report", help="the verdict as one self-contained HTML page")
    parser.add_argument("results_file", metavar="RESULTS", help="e.g. reports/results.json")
    parser.add_argument("-o", "--output", help="the HTML file (default reports/report.html)")
    add_options(parser.add_argument, ("verdict", "paths"))
    parser.set_defaults(handler=run)
