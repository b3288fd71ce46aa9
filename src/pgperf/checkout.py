"""The platform content of a git commit: what a same-run A/B measures as its base arm.

The base arm is the platform as it was at a commit (``sql/``, ``fixtures/``,
``budgets.toml``), exported with ``git archive`` into a folder of its own; the engine that
measures it is the head's. Pure: git, tar and files, no database.
"""

from __future__ import annotations

import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

from pgperf.config import Layout
from pgperf.errors import PgperfError


class CheckoutError(PgperfError):
    """A ref is unknown, git is missing, or a commit holds no platform to measure."""


def _git(root: Path, *args: str, what: str) -> bytes:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, check=False, timeout=60
        )
    except FileNotFoundError:
        raise CheckoutError(
            "git is not installed, and a same-run A/B takes its base from git",
            hint="install git (apt-get install -y git)",
        ) from None
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise CheckoutError(
            f"{what}: git {' '.join(args)} failed in {root}: {detail[-1] if detail else '?'}",
            hint="check the ref (`git log --oneline -5 REF`) and that this is a git checkout",
        )
    return done.stdout


def repository_root(path: Path) -> Path:
    """The top folder of the git checkout holding ``path``."""
    out = _git(path, "rev-parse", "--show-toplevel", what=f"{path} is not in a git checkout")
    return Path(out.decode().strip())


def resolve(root: Path, ref: str) -> str:
    """The full commit id a ref names."""
    if ref.startswith("-"):
        raise CheckoutError(f"{ref!r} is not a ref", hint="name a branch, tag or commit")
    out = _git(
        root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", what=f"unknown ref {ref!r}"
    )
    return out.decode().strip()


def merge_base(root: Path, branch: str) -> str:
    """Where the checkout's HEAD forked from ``branch`` (the default base of a PR's A/B)."""
    out = _git(root, "merge-base", "HEAD", branch, what=f"no merge base with {branch!r}")
    return out.decode().strip()


def export_platform(root: Path, commit: str, dest: Path, *, project: Path) -> Path:
    """Write the platform content of ``commit`` under ``dest``; return its project root.

    ``project`` is the project root inside the checkout (``root`` for most repositories).
    """
    inside = project.resolve().relative_to(root.resolve())
    names = [(inside / name).as_posix() for name in Layout.PLATFORM]
    missing = [name for name in names if not _exists(root, commit, name)]
    if missing:
        raise CheckoutError(
            f"commit {commit[:12]} has no {', '.join(missing)}: it holds no platform for "
            "pgperf to measure",
            hint="choose a base that has the platform (sql/, fixtures/, budgets.toml)",
        )
    archive = _git(root, "archive", "--format=tar", commit, "--", *names, what="git archive")
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest / inside


def _exists(root: Path, commit: str, name: str) -> bool:
    done = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}:{name}"], cwd=root, capture_output=True, check=False
    )
    return done.returncode == 0
