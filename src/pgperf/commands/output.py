"""How every verdict command shows its verdict: the terminal table, and the files asked for."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgperf.errors import EXIT_PASS, EXIT_REGRESSION
from pgperf.verdict.results import write_file
from pgperf.verdict.verdict import Verdict


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--markdown FILE`` and ``--json FILE``."""
    parser.add_argument("--markdown", metavar="FILE", help="also write the PR-comment summary")
    parser.add_argument("--json", metavar="FILE", help="also write the verdict as JSON for tools")


def emit(verdict: Verdict, *, markdown: Path | None, json_path: Path | None) -> int:
    """Write the files asked for, then print the verdict; the exit code of the gate."""
    from pgperf.report.json_report import render_json
    from pgperf.report.markdown import render_markdown
    from pgperf.report.terminal import print_verdict

    # Files first: a write that fails must not follow a printed PASS.
    if markdown is not None:
        write_file(markdown, render_markdown(verdict), role="markdown summary")
    if json_path is not None:
        write_file(json_path, render_json(verdict), role="JSON verdict")
    print_verdict(verdict)
    for label, path in (("markdown summary", markdown), ("JSON verdict", json_path)):
        if path is not None:
            print(f"{label}: {path}")
    return EXIT_REGRESSION if verdict.failed else EXIT_PASS


def path_or_none(value: str | None) -> Path | None:
    """A path option's value, if given."""
    return Path(value) if value else None
