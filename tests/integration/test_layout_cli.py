"""`pgperf --version` and `pgperf --help`, as a user runs them: ``python -m pgperf`` and the
installed ``pgperf`` script."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

import pgperf
from pgperf.commands.cli import COMMANDS, build_parser

#: ``python -m pgperf`` (was ``python -m pgperf.cli``) and the console script of the install.
ENTRY_POINTS = {
    "module": [sys.executable, "-m", "pgperf"],
    "script": [str(Path(sys.executable).with_name("pgperf"))],
}


def _run(entry: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ENTRY_POINTS[entry], *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_version_prints_the_package_version(entry: str) -> None:
    done = _run(entry, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"pgperf {pgperf.__version__}\n"
    assert pgperf.__version__[0].isdigit()


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_help_says_what_the_tool_does_and_lists_every_command(entry: str) -> None:
    done = _run(entry, "--help")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # argparse wraps lines
    assert text.startswith("usage: pgperf ")
    for what in (
        "made a screen of the platform slower",
        "throwaway PostgreSQL",
        "seeds realistic volumes",
        "performance indexes",
        "against a baseline",
    ):
        assert what in text
    assert "exit codes: 0 pass, 1 regression" in text
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    commands = set(sub.choices)
    assert len(commands) >= len(COMMANDS)  # a module may add more than one (compare, verdict)
    for name in commands:
        assert f" {name} " in f" {text} ", f"--help does not list {name}"


def test_no_command_is_a_usage_error() -> None:
    done = _run("module")
    assert done.returncode == 2
    assert "usage: pgperf" in done.stderr
    assert "COMMAND" in done.stderr
