"""`pgperf ab --base REF`: the base's and this checkout's platform measured in one run.

The base arm is the platform content (sql/, fixtures/, budgets.toml) of REF, taken from
git; the head arm is this checkout as it is (uncommitted changes included). One server,
one engine (this one), interleaved paired rounds, both backends pinned to one core and the
client to another; the verdict's latency rule works on the pairs. Exit 0 pass, 1
regression, 2 bad input (unknown ref, no git, a base without a platform).
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from pgperf.checkout import export_platform, merge_base, repository_root, resolve
from pgperf.commands.output import add_output_options, emit, path_or_none
from pgperf.config import Config
from pgperf.host import git_commit
from pgperf.options import add_options
from pgperf.verdict.findings import Thresholds
from pgperf.verdict.record import AbArm, BenchmarkRecord, RunMetadata
from pgperf.verdict.results import load_results, write_file

#: The base of a pull request when none is named: where it forked from main.
DEFAULT_BRANCH = "main"


def _base_commit(root: Path, ref: str | None) -> tuple[str, str]:
    """(what to call the base, its commit)."""
    if ref:
        return ref, resolve(root, ref)
    return f"merge-base of {DEFAULT_BRANCH}", merge_base(root, DEFAULT_BRANCH)


def _write_arm(path: Path, meta: RunMetadata, arm: AbArm, records: list[BenchmarkRecord]) -> Path:
    from pgperf.verdict.document import render_results

    write_file(path, render_results(replace(meta, ab=arm), records), role=f"{arm.arm} results")
    return path


def measure(args: argparse.Namespace, config: Config) -> tuple[Path, Path]:
    """Run both arms; return the base's and the head's results files."""
    from pgperf.data.database import provisioned
    from pgperf.measure.ab import prepare_arms, run_ab
    from pgperf.measure.run import run_metadata
    from pgperf.progress import make_reporter

    repo = repository_root(config.project_root)
    ref, base_commit = _base_commit(repo, args.base)
    head_commit = git_commit(config.project_root) or "unknown"
    out = Path(args.results_dir) if args.results_dir else config.reports
    reporter = make_reporter(enabled=True)
    with tempfile.TemporaryDirectory(prefix="pgperf-ab-") as folder:
        base_root = export_platform(repo, base_commit, Path(folder), project=config.project_root)
        base_config = replace(config, project_root=base_root, reports_dir=config.reports)
        with provisioned(config) as server:
            arms = prepare_arms(server, base_config, config, reporter=reporter)
            measured = run_ab(
                server, arms, select=args.select or (), seed=config.seed, reporter=reporter
            )
            base_meta = run_metadata(base_config, server, commit=base_commit)
            head_meta = run_metadata(config, server, commit=head_commit)
    placement = measured.placement
    arm = AbArm("base", ref, base_commit, head_commit, placement.pinned, placement.described)
    return (
        _write_arm(out / "ab-base.json", base_meta, arm, measured.base),
        _write_arm(out / "ab-head.json", head_meta, replace(arm, arm="head"), measured.head),
    )


def run(args: argparse.Namespace, config: Config) -> int:
    """Measure (or, with --from, re-judge two arms' files), then judge and report."""
    from pgperf.report.html import render_html
    from pgperf.verdict.verdict import compare_paired

    if args.from_files:
        base_path, head_path = (Path(p) for p in args.from_files)
    else:
        base_path, head_path = measure(args, config)
    base = load_results(base_path, role="base arm")
    head = load_results(head_path, role="head arm")
    verdict = compare_paired(base, head, Thresholds.from_config(config), root=config.project_root)
    html = Path(args.output) if args.output else config.reports / "ab-report.html"
    write_file(html, render_html(verdict, head, base), role="HTML report")
    code = emit(verdict, markdown=path_or_none(args.markdown), json_path=path_or_none(args.json))
    print(f"results: {base_path} (base), {head_path} (head); HTML report: {html}")
    return code


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`ab`."""
    parser = sub.add_parser(
        "ab", help="this checkout against a base ref, measured side by side in one run"
    )
    parser.add_argument(
        "--base",
        metavar="REF",
        help=f"the base commit (default: the merge base with {DEFAULT_BRANCH})",
    )
    parser.add_argument(
        "--select",
        action="append",
        metavar="PATTERN",
        help="only benchmarks whose key matches (fnmatch, repeatable), e.g. 'dashboard/*'",
    )
    parser.add_argument(
        "--from",
        dest="from_files",
        nargs=2,
        metavar=("BASE", "HEAD"),
        help="judge two arms' results files again instead of measuring",
    )
    parser.add_argument("--results-dir", help="where the arms' results go (default reports/)")
    parser.add_argument("-o", "--output", help="the HTML report (default reports/ab-report.html)")
    add_output_options(parser)
    add_options(parser.add_argument, ("server", "verdict", "paths"))
    parser.set_defaults(handler=run)
