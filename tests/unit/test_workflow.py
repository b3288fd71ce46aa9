"""The GitHub Actions workflow's hardening rules, and its baseline fetch against a fake `gh`."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = (ROOT / ".github" / "workflows" / "perf.yml").read_text()
FETCH = ROOT / ".github" / "scripts" / "fetch-baseline.sh"

# A stand-in for the GitHub CLI: three green runs on main, only run 102 kept a ci baseline.
FAKE_GH = """#!/usr/bin/env bash
echo "$*" >> "$GH_LOG"
case "$1 $2" in
  "run list") printf '101\\n102\\n103\\n' ;;
  "run download")
    run="$3"; shift 3; name=""; dir=""
    while [ $# -gt 0 ]; do
      case "$1" in --name) name="$2"; shift ;; --dir) dir="$2"; shift ;; esac; shift
    done
    if [ "$run" = "${KEEPER:-none}" ] && [ "$name" = "baseline-ci" ]; then
      mkdir -p "$dir"; echo "results of run $run" > "$dir/results.json"; exit 0
    fi
    echo "no artifact $name in run $run" >&2; exit 1 ;;
esac
"""


def _jobs() -> dict[str, str]:
    body = WORKFLOW.split("\njobs:\n", 1)[1]
    parts = re.split(r"^  ([\w-]+):\n", body, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_action_is_pinned_to_a_commit_with_its_version() -> None:
    uses = re.findall(r"uses: (\S+)(.*)", WORKFLOW)
    assert uses
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r" # v\d+(\.\d+)*", comment), f"{ref}: no '# vX' comment"


def test_jobs_have_their_own_least_permissions_and_a_timeout() -> None:
    assert "\npermissions: {}\n" in WORKFLOW
    jobs = _jobs()
    assert set(jobs) == {"ab", "perf", "comment", "history", "history-issues"}
    for name, body in jobs.items():
        assert "\n    timeout-minutes:" in body, name
        assert "\n    permissions:\n" in body, name
    assert "write" not in jobs["perf"].split("steps:", 1)[0]
    assert "write" not in jobs["ab"].split("steps:", 1)[0]
    assert "pull-requests: write" in jobs["comment"]
    assert "contents" not in jobs["comment"].split("steps:", 1)[0]
    # Only the issues job may write issues, and it writes nothing else.
    writers = [n for n, b in jobs.items() if "issues: write" in b.split("steps:", 1)[0]]
    assert writers == ["history-issues"]
    assert "write" not in jobs["history"].split("steps:", 1)[0]
    issues_perms = jobs["history-issues"].split("permissions:", 1)[1].split("steps:", 1)[0]
    assert issues_perms.count("write") == 1


def test_runs_are_grouped_per_ref_and_checkout_keeps_no_token() -> None:
    assert re.search(r"concurrency:\n  group: perf-\$\{\{ github.ref \}\}", WORKFLOW)
    assert "persist-credentials: false" in WORKFLOW
    assert "cache: pip" in WORKFLOW


def test_pull_requests_are_judged_by_a_same_run_a_b_against_their_base_branch() -> None:
    jobs = _jobs()
    ab = jobs["ab"]
    assert "if: ${{ github.event_name == 'pull_request' }}" in ab
    assert "if: ${{ github.event_name != 'pull_request' }}" in jobs["perf"]
    # Pinning needs the runner's own server (a container's backends cannot be moved).
    assert "PGPERF_BACKEND: local" in ab
    assert "apt-get install -y -qq postgresql" in ab
    assert "fetch-depth: 0" in ab  # the base arm comes from git
    assert 'make perf-ab BASE="origin/${BASE_REF}" PROFILE=ci' in ab
    assert "BASE_REF: ${{ github.base_ref }}" in ab  # through the environment, not the script
    assert "name: perf-report-ci" in ab
    assert "needs: ab" in jobs["comment"]


def test_pull_requests_get_the_ci_profile_and_nightly_the_default() -> None:
    profile = "${{ inputs.profile || (github.event_name == 'schedule' && 'default') || 'ci' }}"
    assert f"PGPERF_PROFILE: {profile}" in WORKFLOW
    assert "PGPERF_BACKEND: docker" in WORKFLOW
    for trigger in ("pull_request:", "push:", "schedule:", "workflow_dispatch:"):
        assert f"\n  {trigger}" in WORKFLOW


@pytest.fixture
def fake_gh(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH)
    gh.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "GH_LOG": str(tmp_path / "gh.log"),
        "GITHUB_REPOSITORY": "acme/platform",
    }


def _fetch(cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", str(FETCH), "ci", "main"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_fetch_takes_the_latest_run_that_kept_a_baseline(
    tmp_path: Path, fake_gh: dict[str, str]
) -> None:
    work = tmp_path / "repo"
    work.mkdir()
    out = _fetch(work, {**fake_gh, "KEEPER": "102"})
    assert (work / "baselines" / "ci.json").read_text() == "results of run 102\n"
    assert "run 102 on main" in out
    log = (tmp_path / "gh.log").read_text().splitlines()
    assert log[0].startswith("run list --repo acme/platform --workflow perf.yml --branch main")
    assert [line.split()[2] for line in log[1:]] == ["101", "102"]


def test_fetch_falls_back_to_the_committed_baseline(
    tmp_path: Path, fake_gh: dict[str, str]
) -> None:
    work = tmp_path / "repo"
    (work / "baselines").mkdir(parents=True)
    (work / "baselines" / "ci.json").write_text("committed\n")
    out = _fetch(work, fake_gh)
    assert (work / "baselines" / "ci.json").read_text() == "committed\n"
    assert "using the committed baselines/ci.json" in out


def test_fetch_without_any_baseline_says_so(tmp_path: Path, fake_gh: dict[str, str]) -> None:
    work = tmp_path / "repo"
    work.mkdir()
    out = _fetch(work, fake_gh)
    assert not (work / "baselines" / "ci.json").exists()
    assert "none yet for ci" in out


FAKE_GH_API = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$GH_LOG"
if [ "$2" = "--paginate" ]; then printf '%s' "$EXISTING"; fi
"""


def _comment_script() -> str:
    step = WORKFLOW.split("- name: Post the summary", 1)[1]
    block = step.split("run: |\n", 1)[1]
    lines = [line[10:] for line in block.splitlines() if line.startswith(" " * 10) or not line]
    return "\n".join(lines)


def _post_comment(tmp_path: Path, fake_gh: dict[str, str], existing: str) -> list[str]:
    (tmp_path / "bin" / "gh").write_text(FAKE_GH_API)
    (tmp_path / "report").mkdir(exist_ok=True)
    (tmp_path / "report" / "summary.md").write_text("## ❌ pgperf: FAIL\n")
    env = {**fake_gh, "EXISTING": existing, "PR_NUMBER": "7", "RUN_URL": "https://run/1"}
    script = "set -eo pipefail\n" + _comment_script()
    subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, check=True)
    return (tmp_path / "gh.log").read_text().splitlines()


def test_first_push_posts_one_comment_with_the_marker(
    tmp_path: Path, fake_gh: dict[str, str]
) -> None:
    log = _post_comment(tmp_path, fake_gh, existing="")
    assert log[0].startswith("api --paginate repos/acme/platform/issues/7/comments")
    assert log[1].startswith("api --method POST repos/acme/platform/issues/7/comments")
    assert "body=<!-- pgperf-summary -->" in log[1]
    assert "## ❌ pgperf: FAIL" in "\n".join(log[1:])


def test_later_pushes_update_the_first_marked_comment(
    tmp_path: Path, fake_gh: dict[str, str]
) -> None:
    log = _post_comment(tmp_path, fake_gh, existing="555\n777\n")
    assert log[1].startswith("api --method PATCH repos/acme/platform/issues/comments/555")
    assert not any("POST" in line for line in log)


# --------------------------------------------------------------------------- the history jobs

HISTORY_FETCH = ROOT / ".github" / "scripts" / "fetch-history.sh"
HISTORY_ISSUES = ROOT / ".github" / "scripts" / "history-issues.sh"

# Runs 201..205 on main; 202 kept no results (a run that died early); 205 is the current run.
FAKE_GH_RUNS = """#!/usr/bin/env bash
echo "$*" >> "$GH_LOG"
case "$1 $2" in
  "run list") printf '205\\n204\\n203\\n202\\n201\\n' ;;
  "run download")
    run="$3"; shift 3; name=""; dir=""
    while [ $# -gt 0 ]; do
      case "$1" in --name) name="$2"; shift ;; --dir) dir="$2"; shift ;; esac; shift
    done
    [ "$name" = "perf-report-default" ] || exit 1
    [ "$run" != 202 ] || { mkdir -p "$dir"; echo partial > "$dir/summary.md"; exit 1; }
    mkdir -p "$dir"; echo "results of $run" > "$dir/results.json" ;;
esac
"""


def test_history_job_runs_after_the_nightly_and_builds_the_page() -> None:
    jobs = _jobs()
    history = jobs["history"]
    assert "needs: perf" in history
    assert "github.event_name == 'schedule'" in history
    assert "github.ref == 'refs/heads/main'" in history
    assert "fetch-depth: 0" in history  # commit times order the runs
    assert "name: perf-report-default" in history
    assert "HISTORY_RUNS: 30" in history
    assert "make history DIR=history" in history
    assert 'cat reports/history.md >> "$GITHUB_STEP_SUMMARY"' in history
    assert "name: perf-history" in history
    issues = jobs["history-issues"]
    assert "needs: history" in issues
    assert ".github/scripts/history-issues.sh history/history.json" in issues


def test_fetch_history_takes_the_last_runs_that_kept_results(
    tmp_path: Path, fake_gh: dict[str, str]
) -> None:
    (tmp_path / "bin" / "gh").write_text(FAKE_GH_RUNS)
    env = {**fake_gh, "GITHUB_RUN_ID": "205"}
    done = subprocess.run(
        ["bash", str(HISTORY_FETCH), "default", "main", "2", "hist"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    got = sorted(p.parent.name for p in (tmp_path / "hist").glob("*/results.json"))
    assert got == ["run-203", "run-204"]  # newest first, the current run and 202 left out
    assert not (tmp_path / "hist" / "run-202").exists()  # no half-downloaded folder stays
    assert "2 earlier default results from main (asked for 2)" in done.stdout
    log = (tmp_path / "gh.log").read_text().splitlines()
    assert log[0].startswith("run list --repo acme/platform --workflow perf.yml --branch main")
    assert [line.split()[2] for line in log[1:]] == ["204", "203"]


FAKE_GH_ISSUES = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$GH_LOG"
if [ "$1 $2" = "issue list" ]; then printf '%s' "$OPEN_ISSUES"; fi
"""

HISTORY_JSON = {
    "format": "pgperf-history",
    "change_points": [
        {
            "benchmark": "dashboard/page|median|page",
            "metric": "median_ms",
            "kind": "latency",
            "run": 30,
            "commit": "abc123",
            "date": "2026-01-30",
            "before": 1.0,
            "after": 1.3,
            "change": 0.3,
            "new": True,
        },
        {
            "benchmark": "dashboard/page|median|page",
            "metric": "plan",
            "kind": "plan",
            "run": 30,
            "commit": "abc123",
            "date": "2026-01-30",
            "before": "a (x)",
            "after": "b (y)",
            "change": None,
            "new": True,
        },
        {
            "benchmark": "reports/page|heavy|page",
            "metric": "buffers",
            "kind": "work",
            "run": 29,
            "commit": "abc122",
            "date": "2026-01-29",
            "before": 100.0,
            "after": 125.0,
            "change": 0.25,
            "new": True,
        },
        {
            "benchmark": "agents/page|heavy|page",
            "metric": "p95_ms",
            "kind": "latency",
            "run": 12,
            "commit": "0ld",
            "date": "2026-01-12",
            "before": 1.0,
            "after": 2.0,
            "change": 1.0,
            "new": False,
        },
    ],
}


def _issues(tmp_path: Path, fake_gh: dict[str, str], open_issues: str) -> list[str]:
    import json

    (tmp_path / "bin" / "gh").write_text(FAKE_GH_ISSUES)
    (tmp_path / "history.json").write_text(json.dumps(HISTORY_JSON))
    env = {**fake_gh, "OPEN_ISSUES": open_issues, "RUN_URL": "https://run/9"}
    subprocess.run(
        ["bash", str(HISTORY_ISSUES), "history.json"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return (tmp_path / "gh.log").read_text().splitlines()


def test_new_change_points_open_one_issue_per_benchmark(
    tmp_path: Path, fake_gh: dict[str, str]
) -> None:
    log = "\n".join(_issues(tmp_path, fake_gh, open_issues="[]"))
    created = [line for line in log.split("\nissue ") if line.startswith("create")]
    assert len(created) == 2  # two benchmarks have new change points; the old one none
    assert "--title perf: change point in dashboard/page|median|page" in created[0]
    assert "**median_ms** (latency): 1 → 1.3 (+30%) from run 30, commit `abc123`" in created[0]
    assert "**plan** (plan): a (x) → b (y) from run 30" in created[0]
    assert "https://run/9" in created[0]
    assert "--title perf: change point in reports/page|heavy|page" in created[1]
    assert "agents/page" not in log
    assert "comment" not in log


def test_an_open_issue_of_the_same_title_is_updated_not_duplicated(
    tmp_path: Path, fake_gh: dict[str, str]
) -> None:
    import json

    open_issues = json.dumps(
        [
            {"number": 41, "title": "perf: change point in dashboard/page|median|page (old)"},
            {"number": 42, "title": "perf: change point in dashboard/page|median|page"},
        ]
    )
    log = _issues(tmp_path, fake_gh, open_issues=open_issues)
    comments = [line for line in log if line.startswith("issue comment")]
    # both titles answer the (fuzzy) search; only #42's is exact, and it gets the comment
    assert len(comments) == 1
    assert comments[0].startswith("issue comment 42 --repo acme/platform --body")
    creates = [line for line in log if line.startswith("issue create")]
    assert len(creates) == 1  # the other benchmark has no issue of its title yet
    assert "perf: change point in reports/page|heavy|page" in creates[0]


def test_no_new_change_point_touches_no_issue(tmp_path: Path, fake_gh: dict[str, str]) -> None:
    import json

    (tmp_path / "bin" / "gh").write_text(FAKE_GH_ISSUES)
    quiet = {"change_points": [{**HISTORY_JSON["change_points"][3]}]}
    (tmp_path / "history.json").write_text(json.dumps(quiet))
    done = subprocess.run(
        ["bash", str(HISTORY_ISSUES), "history.json"],
        cwd=tmp_path,
        env=fake_gh,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "no new change point" in done.stdout
    assert not (tmp_path / "gh.log").exists()
