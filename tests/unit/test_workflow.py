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
    assert set(jobs) == {"ab", "perf", "comment"}
    for name, body in jobs.items():
        assert "\n    timeout-minutes:" in body, name
        assert "\n    permissions:\n" in body, name
    assert "write" not in jobs["perf"].split("steps:", 1)[0]
    assert "write" not in jobs["ab"].split("steps:", 1)[0]
    assert "pull-requests: write" in jobs["comment"]
    assert "contents" not in jobs["comment"].split("steps:", 1)[0]


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
