"""The same-run A/B's self-test: a git repository made here, its base against edited heads.

The repository holds the platform (sql/, fixtures/, budgets.toml) committed once as the
base. Each scenario edits the working tree (the head arm) and runs `pgperf ab --base
<commit>` on this session's server, so both arms clone the templates this session has:

* A/A (the head is the base): nothing fails, and no benchmark moves by more than a few
  percent — an A/B that ignored where the kernel puts the client and the backends would
  show a sub-millisecond query 1.7x slower here;
* a CPU-only slowdown (same plan, same buffers) of a sub-millisecond dashboard query and of
  a report query of 100 ms or more: both caught by the latency rule alone;
* a change of about 10% on another report (a 14-month window instead of 12: more rows
  read): reported with its interval, not failed; its result changed with its SQL, which is a
  warning at the head of the PR comment (the result rule), never a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pgperf.config import Config, Layout
from pgperf.data.templates import Template
from pgperf.provision import ServerHandle

pytestmark = [pytest.mark.selftest, pytest.mark.integration]

SUB_MS = "dashboard/recent_tasks|median|prepared"
REPORT = "reports/monthly_by_tier_provider|any|prepared"
TEN_PERCENT = "reports/revenue_by_month|any|prepared"
BYSTANDER = "dashboard/latest_content|heavy|prepared"
SELECTION = (SUB_MS, REPORT, TEN_PERCENT, BYSTANDER)
# md5 of a long string per row fetched: CPU, not pages (the filter is always true).
SUB_MS_BURN = (
    "WHERE user_id = %(user_id)s",
    "WHERE user_id = %(user_id)s AND length(repeat(md5(id::text), 400)) > 0",
)
# Two more months of the ledger: more rows read, about 10% more time and work.
TEN_PERCENT_WIDER = ("interval '11 months'", "interval '13 months'")
REPORT_BURN = (
    "WHERE date_trunc('month', t.created_at",
    "WHERE length(repeat(md5(t.user_id::text), 4)) > 0 AND date_trunc('month', t.created_at",
)


def git(repo: Path, *args: str) -> str:
    """Run git in the test's repository."""
    done = subprocess.run(
        ["git", "-c", "user.name=pgperf", "-c", "user.email=pgperf@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@dataclass(frozen=True)
class AbRepo:
    """The test's repository and the commit its base arm is."""

    root: Path
    base: str

    def edit(self, relative: str, old: str, new: str) -> None:
        """Change one platform file in the working tree (the head arm)."""
        path = self.root / relative
        text = path.read_text()
        assert old in text, f"{relative} no longer contains {old!r}: update the injection"
        path.write_text(text.replace(old, new, 1))

    def reset(self) -> None:
        """The working tree back to the base commit."""
        git(self.root, "checkout", "--", ".")


@pytest.fixture(scope="module")
def ab_repo(tmp_path_factory: pytest.TempPathFactory, pgperf_config: Config) -> AbRepo:
    """A git repository holding this project's platform, committed once."""
    root = tmp_path_factory.mktemp("ab-repo")
    for name in Layout.PLATFORM:
        source = pgperf_config.project_root / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return AbRepo(root, git(root, "rev-parse", "HEAD"))


@dataclass(frozen=True)
class AbRun:
    """One `pgperf ab` run: its exit code, output and machine-readable verdict."""

    returncode: int
    output: str
    verdict: dict[str, Any]
    markdown: str

    def bench(self, key: str) -> dict[str, Any]:
        """One benchmark's verdict."""
        found = [b for b in self.verdict["benchmarks"] if b["key"] == key]
        assert found, f"{key} is not in the verdict:\n{self.output[-3000:]}"
        return found[0]

    def describe(self) -> str:
        """Each benchmark's status and reason, for assertion messages."""
        return "\n".join(
            f"{b['key']}: {b['status']}: {b['reason']}" for b in self.verdict["benchmarks"]
        )


@pytest.fixture(scope="module")
def run_ab(
    ab_repo: AbRepo,
    pg_server: ServerHandle,
    bench_template: Template,
    pgperf_config: Config,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Any]:
    """`pgperf ab` on this session's server (the dsn backend), as CI runs it."""
    assert bench_template.name  # the templates exist: each arm only clones them
    out = tmp_path_factory.mktemp("ab-out")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGPERF_")}
    env |= {"PGPERF_BACKEND": "dsn", "PGPERF_DSN": pg_server.conninfo}

    def run(name: str) -> AbRun:
        folder = out / name
        command = [
            sys.executable,
            "-m",
            "pgperf",
            "ab",
            "--base",
            ab_repo.base,
            "--profile",
            pgperf_config.profile,
            "--seed",
            str(pgperf_config.seed),
            "--project-root",
            str(ab_repo.root),
            "--results-dir",
            str(folder),
            "--json",
            str(folder / "verdict.json"),
            "--markdown",
            str(folder / "summary.md"),
            "-o",
            str(folder / "report.html"),
        ]
        command += [arg for key in SELECTION for arg in ("--select", key)]
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        output = done.stdout + done.stderr
        assert (folder / "verdict.json").exists(), f"no verdict written:\n{output[-4000:]}"
        verdict = json.loads((folder / "verdict.json").read_text())
        return AbRun(done.returncode, output, verdict, (folder / "summary.md").read_text())

    yield run
    ab_repo.reset()


def test_a_a_passes_and_no_benchmark_moves(run_ab: Any, ab_repo: AbRepo) -> None:
    ab_repo.reset()
    result = run_ab("aa")
    print(result.describe())

    assert result.returncode == 0, result.output[-4000:]
    assert not result.verdict["failed"], result.describe()
    assert not result.verdict["warnings"], result.verdict["warnings"]
    assert "same-run A/B" in result.output
    assert "both backends on CPU" in result.output, "the arms were not pinned to the cores"
    for key in SELECTION:
        bench = result.bench(key)
        # Unpinned, two arms of one database measured 0.59x to 1.73x apart here.
        assert abs(bench["change"]) < 0.05, result.describe()


def test_cpu_only_slowdowns_are_caught_and_a_ten_percent_change_is_only_reported(
    run_ab: Any, ab_repo: AbRepo
) -> None:
    ab_repo.reset()
    ab_repo.edit("sql/queries/dashboard/recent_tasks.sql", *SUB_MS_BURN)
    ab_repo.edit("sql/queries/reports/monthly_by_tier_provider.sql", *REPORT_BURN)
    ab_repo.edit("sql/queries/reports/revenue_by_month.sql", *TEN_PERCENT_WIDER)
    result = run_ab("injected")
    print(result.describe())

    assert result.returncode == 1, result.output[-4000:]
    for key in (SUB_MS, REPORT):
        bench = result.bench(key)
        assert bench["status"] == "fail", result.describe()
        # Same plan, same buffers: only the paired latency rule can see it.
        assert bench["rule"] == "latency", result.describe()
        assert bench["buffers"]["current"] == bench["buffers"]["baseline"], result.describe()
    assert result.bench(REPORT)["median_ms"]["baseline"] >= 100, (
        "the report query is no longer slow"
    )
    assert result.bench(SUB_MS)["median_ms"]["baseline"] < 1, (
        "the dashboard query is no longer sub-ms"
    )
    ten = result.bench(TEN_PERCENT)
    assert ten["status"] != "fail", result.describe()
    assert 0.03 < ten["change"] < 0.19, result.describe()
    (latency,) = [f["message"] for f in ten["findings"] if f["rule"] == "latency"]
    assert re.search(r"\[[-+]\d+\.\d%, [-+]\d+\.\d%\] over \d+ pairs", latency), latency
    # More months, more rows, with its SQL changed: a warning, first thing in the PR comment.
    assert ten["status"] == "warning", result.describe()
    (warning,) = [w for w in result.verdict["warnings"] if w.startswith("revenue_by_month")]
    assert re.fullmatch(r"revenue_by_month · any: (\d+) → (\d+) rows", warning), warning
    head = result.markdown.split("### ", 1)[0]
    assert "**Results changed**" in head
    assert warning in head
    # The burnt queries' SQL changed but their results did not: no warning for them.
    assert result.bench(SUB_MS)["status"] == "fail"
    assert not [w for w in result.verdict["warnings"] if w.startswith("recent_tasks")]
    assert result.bench(BYSTANDER)["status"] != "fail", result.describe()
