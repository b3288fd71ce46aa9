"""`pgperf pgbench-export`: the exported scripts run under pgbench without a failed transaction."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pgperf.commands.cli import main
from pgperf.data import database
from pgperf.data.templates import Template
from pgperf.provision import ServerHandle

pytestmark = pytest.mark.load

SECONDS = 2
_COMMAND = re.compile(r"^pgbench .*$", re.MULTILINE)
_PROCESSED = re.compile(r"number of transactions actually processed: (\d+)")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scripts and README, written by the CLI as a DBA would run it."""
    folder = tmp_path_factory.mktemp("pgbench")
    assert main(["pgbench-export", str(folder)]) == 0
    return folder


@pytest.fixture
def pgbench_db(pg_server: ServerHandle, bench_template: Template) -> Iterator[str]:
    """A throwaway clone of the bench template (the playground script inserts tasks)."""
    with database.scratch_database(pg_server, template=bench_template.name, label="pgb") as dsn:
        yield dsn


def _defines(dsn: str, folder: Path) -> list[str]:
    with database.connect(dsn) as conn:
        low, high = conn.execute((folder / "user_range.sql").read_text()).fetchone() or (1, 1)
        now = database.read_meta(conn, "data_now")
    return ["-D", f"min_user_id={low}", "-D", f"max_user_id={high}", "-D", f"now={now}"]


def _short(command: str, pgbench: Path, defines: list[str], dsn: str) -> list[str]:
    """A README command line, cut to a few seconds and a few clients for this machine."""
    line = command.split("&", maxsplit=1)[0].replace("$DEFS", "")
    words = shlex.split(line)[:-1]  # the last word is "$PGDSN"
    words[0] = str(pgbench)
    words[words.index("-T") + 1] = str(SECONDS)
    clients = words.index("-c") + 1
    words[clients] = str(min(int(words[clients]), 4))
    if "-P" in words:  # no progress lines in a two-second run
        del words[words.index("-P") : words.index("-P") + 2]
    return [*words, *defines, dsn]


def test_readme_has_a_command_for_every_scenario(exported: Path) -> None:
    readme = (exported / "README.md").read_text()
    scripts = {p.name for p in exported.glob("*.sql")} - {"user_range.sql"}
    named = {m for c in _COMMAND.findall(readme) for m in re.findall(r"-f (\S+?)(?:@\d+)?\s", c)}
    assert named == scripts
    assert readme.count("-M prepared") == len(_COMMAND.findall(readme))


def test_exported_scripts_run_under_pgbench_without_failures(
    exported: Path, pgbench_db: str, pgbench_path: Path
) -> None:
    readme = (exported / "README.md").read_text()
    defines = _defines(pgbench_db, exported)
    commands = [_short(c, pgbench_path, defines, pgbench_db) for c in _COMMAND.findall(readme)]
    # All at once (background refresh jobs alongside their scenario), each for SECONDS.
    runs = [
        subprocess.Popen(c, cwd=exported, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    outputs = [run.communicate(timeout=SECONDS + 60) for run in runs]
    for command, run, (out, err) in zip(commands, runs, outputs, strict=True):
        script = " ".join(w for w in command if w.endswith(".sql") or ".sql@" in w)
        assert run.returncode == 0, f"{script}: exit {run.returncode}\n{err[-1500:]}"
        assert "number of failed transactions: 0 " in out, f"{script}:\n{out}\n{err[-1500:]}"
        processed = _PROCESSED.search(out)
        assert processed is not None, out
        assert int(processed.group(1)) > 0, f"{script}: no transaction completed\n{out}"
