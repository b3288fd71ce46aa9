"""Cross-check the suite's timings against pgbench, a client nobody here wrote.

The same statement, the same parameter values, the same database and plan mode: pgbench
runs it ``-t N`` times over one connection (``-M prepared``, values passed with ``-D``) and
reports its average latency, which must agree with our median within a tolerance.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from psycopg.types.json import Jsonb

from pgperf.errors import PgperfError
from pgperf.measure import explain
from pgperf.measure.catalog import Query
from pgperf.measure.params import Params, placeholders, resolve_params, to_positional
from pgperf.measure.runner import BenchSession
from pgperf.verdict.record import PREPARED, BenchmarkKey

_LATENCY = re.compile(r"latency average = ([0-9.]+) ms")


class CrossCheckError(PgperfError):
    """pgbench could not run the statement or its output could not be read."""


@dataclass(frozen=True)
class CrossCheck:
    """The suite's and pgbench's latency of one statement, in ms."""

    key: BenchmarkKey
    transactions: int
    ours_median_ms: float
    ours_mean_ms: float
    pgbench_median_ms: float
    pgbench_avg_ms: float  # pgbench's own "latency average" line

    @property
    def ratio(self) -> float:
        """Our median / pgbench's median (1.0 = perfect agreement)."""
        return self.ours_median_ms / self.pgbench_median_ms

    @property
    def average_ratio(self) -> float:
        """Our median / pgbench's reported average (skewed by stalls of a shared machine)."""
        return self.ours_median_ms / self.pgbench_avg_ms


@dataclass(frozen=True)
class PgbenchRun:
    """pgbench's reported average and its per-transaction latencies (from -l), in ms."""

    average_ms: float
    latencies_ms: list[float]


def find_pgbench(bindir: Path | None) -> Path:
    """The pgbench next to the PostgreSQL binaries the local backend would use."""
    from pgperf.provision.local import find_binaries

    found = find_binaries(bindir)
    path = Path(found.tool("pgbench")) if found else None
    if path is None or not path.exists():
        raise CrossCheckError(
            "no pgbench found (looked beside the PostgreSQL binaries)",
            hint="install the PostgreSQL client/server package, or pass --pg-bindir",
        )
    return path


def pgbench_value(value: object) -> str:
    """A parameter value as the text pgbench sends for it (-D name=value)."""
    if isinstance(value, Jsonb):
        return json.dumps(value.obj)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def pgbench_script(text: str) -> str:
    """The statement as a pgbench script: ``%(name)s`` become ``:name`` variables."""
    return to_positional(text, style="colon") + ";\n"


def run_pgbench(
    pgbench: Path, dsn: str, script: str, params: Params, *, transactions: int
) -> PgbenchRun:
    """pgbench's latency of ``transactions`` runs of ``script`` on one client."""
    defines = [f"--define={name}={pgbench_value(v)}" for name, v in params.items()]
    # Same plan mode as the suite's 'prepared' variant: the plan pgbench times is ours.
    env = {**os.environ, "PGOPTIONS": "-c plan_cache_mode=force_custom_plan"}
    with tempfile.TemporaryDirectory(prefix="pgperf-pgbench-") as folder:
        path = Path(folder) / "query.sql"
        path.write_text(script)
        command = [str(pgbench), "-n", "-M", "prepared", "-c", "1", "-t", str(transactions)]
        # -l: one line per transaction (client, transaction no, latency us, ...), for a median.
        command += ["-l", f"--log-prefix={folder}/tx", *defines, "-f", str(path), dsn]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        match = _LATENCY.search(done.stdout)
        if done.returncode != 0 or match is None:
            raise CrossCheckError(
                f"pgbench failed (exit {done.returncode}): {(done.stderr or done.stdout)[-800:]}"
            )
        # Each run is a new backend: its first transaction also loads catalog caches and
        # prepares the statement, which our side does untimed; leave it out of the median.
        latencies = [
            int(fields[2]) / 1000
            for log in Path(folder).glob("tx*")
            for fields in (line.split() for line in log.read_text().splitlines())
            if fields[1] != "0"
        ]
    return PgbenchRun(float(match.group(1)), latencies)


def warm_up(session: BenchSession, query: Query, params: Params) -> None:
    """Run the statement a few times untimed, so neither side pays for a cold cache."""
    with session.connection() as conn:
        for _ in range(session.length.warmup_rounds):
            explain.execute(conn, query.text, params)


def our_samples_ms(
    session: BenchSession, query: Query, params: Params, *, rounds: int
) -> list[float]:
    """The suite's timings (ms) of ``rounds`` prepared executions, custom plans."""
    with session.connection() as conn:
        explain.set_plan_mode(conn, "custom")
        explain.execute(conn, query.text, params)  # prepares it, outside the timing
        return [
            explain.timed(lambda: explain.execute(conn, query.text, params)) * 1000
            for _ in range(rounds)
        ]


def cross_check(
    session: BenchSession,
    query: Query,
    *,
    persona: str,
    pgbench: Path,
    transactions: int,
    blocks: int = 5,
) -> CrossCheck:
    """Time one catalog query with the suite and with pgbench, same values, same database.

    The two alternate in ``blocks`` blocks, so a burst of load from a neighbour on a shared
    machine falls on both sides instead of on whichever happened to run then.
    """
    with session.connection() as conn:
        params = resolve_params(conn, query.params, persona=persona, pickers=session.pickers)
    used = {name: params[name] for name in placeholders(query.text)}
    script = pgbench_script(query.text)
    warm_up(session, query, used)
    per_block = max(2, transactions // blocks)
    ours: list[float] = []
    theirs: list[PgbenchRun] = []
    for _ in range(blocks):
        theirs.append(run_pgbench(pgbench, session.dsn, script, used, transactions=per_block))
        ours += our_samples_ms(session, query, used, rounds=per_block)
    return CrossCheck(
        key=BenchmarkKey(query.feature, query.name, persona, PREPARED),
        transactions=(per_block - 1) * blocks,
        ours_median_ms=statistics.median(ours),
        ours_mean_ms=statistics.mean(ours),
        pgbench_median_ms=statistics.median([t for run in theirs for t in run.latencies_ms]),
        # pgbench reports one average per run; all runs have as many transactions.
        pgbench_avg_ms=statistics.mean(run.average_ms for run in theirs),
    )
