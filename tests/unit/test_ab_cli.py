"""`pgperf ab`: bad input is refused before any server starts (exit 2, with what to do).

Each case runs the real command on a git repository made here (or on a folder that is no
repository at all).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pgperf.checkout import CheckoutError, export_platform, repository_root, resolve
from pgperf.commands.cli import main
from pgperf.config import PACKAGE_ROOT, SETTINGS, Layout


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for row in SETTINGS:
        monkeypatch.delenv(row.env, raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose one commit holds the project's platform."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in Layout.PLATFORM:
        source = PACKAGE_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "platform")
    return root


def _ab(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["ab", "--project-root", str(root), "--pg-backend", "local", *args])
    return code, capsys.readouterr().err


def test_an_unknown_ref_is_bad_input(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _ab(repo, "--base", "no-such-branch", capsys=capsys)
    assert code == 2
    assert "unknown ref 'no-such-branch'" in err
    assert "hint:" in err


def test_a_folder_outside_git_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    code, err = _ab(folder, "--base", "main", capsys=capsys)
    assert code == 2
    assert "is not in a git checkout" in err


def test_a_base_without_the_platform_is_bad_input(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "README").write_text("before the platform existed\n")
    _git(repo, "checkout", "-q", "--orphan", "empty")
    _git(repo, "rm", "-rq", "--cached", ".")
    _git(repo, "add", "README")
    _git(repo, "commit", "-q", "-m", "no platform")
    bare = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-q", "-f", "main")
    code, err = _ab(repo, "--base", bare, capsys=capsys)
    assert code == 2
    assert "holds no platform for pgperf to measure" in err
    assert "sql" in err


def test_an_option_like_ref_is_refused(repo: Path) -> None:
    with pytest.raises(CheckoutError, match="is not a ref"):
        resolve(repo, "--output=/tmp/x")


def test_export_writes_the_platform_of_the_commit_not_of_the_working_tree(
    repo: Path, tmp_path: Path
) -> None:
    commit = _git(repo, "rev-parse", "HEAD")
    query = repo / "sql" / "queries" / "dashboard" / "recent_tasks.sql"
    committed = query.read_text()
    query.write_text(committed + "\n-- edited in the working tree\n")
    out = export_platform(repository_root(repo), commit, tmp_path / "out", project=repo)
    assert (out / "sql" / "queries" / "dashboard" / "recent_tasks.sql").read_text() == committed
    assert (out / "budgets.toml").is_file()
    assert (out / "fixtures" / "__init__.py").is_file()
    assert not (out / ".git").exists()
