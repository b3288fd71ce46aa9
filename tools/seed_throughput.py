"""Seeding throughput: end to end vs raw COPY of the same rows vs a naive Faker + INSERT loop.

Run with `make bench-seed` (profile from PROFILE, default `default`). A benchmark, not a test:
it prints rows/s for the three ways, measured in the same run on the same server.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from faker import Faker

from pgperf.config import Config, resolve_config
from pgperf.data import database
from pgperf.data.generators import SeedPlan, load_generators
from pgperf.data.seeding import copy_table, ensure_seeded_template, seed_database
from pgperf.host import pressure_over
from pgperf.progress import Task, make_reporter
from pgperf.provision import ServerHandle

NAIVE_ROWS = 3000


def _raw_copy(server: ServerHandle, config: Config, plan: SeedPlan) -> tuple[int, float, float]:
    """COPY the plan's rows, each table formatted in memory first: (rows, COPY s, format s).

    Only the COPY statements are timed: the physical limit of loading these exact rows.
    """
    rows, copy_seconds, format_seconds = 0, 0.0, 0.0
    quiet = make_reporter(enabled=False)
    with (
        database.scratch_database(server, label="raw") as dsn,
        database.connect(dsn) as conn,
        conn.transaction(),
    ):
        database.apply_schema(conn, config.layout.schema_file)
        conn.execute("SET LOCAL session_replication_role = replica")
        for load in plan.tables:
            started = time.perf_counter()
            chunks = tuple(load.chunks())
            format_seconds += time.perf_counter() - started
            started = time.perf_counter()
            rows += copy_table(
                conn, dataclasses.replace(load, chunks=functools.partial(iter, chunks)), quiet
            )
            copy_seconds += time.perf_counter() - started
            del chunks
    return rows, copy_seconds, format_seconds


class _Counting:
    """A task that also counts the rows into its timer."""

    def __init__(self, timer: _CopyTimer, inner: Task) -> None:
        self.timer, self.inner = timer, inner

    def advance(self, amount: int = 1) -> None:
        self.timer.rows += amount
        self.inner.advance(amount)

    def working_on(self, item: str) -> None:
        self.inner.working_on(item)

    def detail(self, text: str) -> None:
        self.inner.detail(text)


class _CopyTimer:
    """A reporter that adds up the time spent inside each table's COPY."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.rows = 0
        self.inner = make_reporter(enabled=True)

    @contextmanager
    def task(self, label: str, *, total: int, unit: str, rate: bool = False) -> Iterator[Task]:
        """Time the table's COPY and count its rows."""
        started = time.perf_counter()
        with self.inner.task(label, total=total, unit=unit, rate=rate) as inner:
            yield _Counting(self, inner)
        self.seconds += time.perf_counter() - started

    def note(self, message: str) -> None:
        """Pass notes through."""
        self.inner.note(message)


def _seed_fresh(server: ServerHandle, config: Config, plan: SeedPlan, label: str) -> _CopyTimer:
    timer = _CopyTimer()
    with database.scratch_database(server, label=label) as dsn:
        seed_database(dsn, config.layout.schema_file, plan, reporter=timer)
    return timer


def _naive(server: ServerHandle, config: Config, rows: int) -> float:
    """Faker per row + one INSERT per row into tasks-shaped rows: the textbook way."""
    fake = Faker()
    fake.seed_instance(config.seed)
    with database.scratch_database(server, label="naive") as dsn, database.connect(dsn) as conn:
        conn.execute(
            "CREATE TABLE naive (id bigint PRIMARY KEY, email text, name text, prompt jsonb,"
            " title text, created_at timestamptz)"
        )
        started = time.perf_counter()
        with conn.transaction():
            for i in range(rows):
                conn.execute(
                    "INSERT INTO naive VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        i,
                        fake.unique.email(),
                        fake.name(),
                        f'{{"prompt": "{fake.sentence()}", "temperature": 0.7}}',
                        fake.catch_phrase(),
                        fake.date_time_between("-18M", "now"),
                    ],
                )
        return rows / (time.perf_counter() - started)


@contextmanager
def _machine(label: str, seen: dict[str, str]) -> Iterator[None]:
    """Note the load average and CPU pressure over a phase: the machine is shared."""
    load = os.getloadavg()[0]
    with pressure_over() as reading:
        yield
    share = "?" if reading.share is None else f"{reading.share:.0%}"
    seen[label] = f"load {load:.1f}->{os.getloadavg()[0]:.1f}, cpu pressure {share}"


def run(config: Config) -> None:
    """Measure and print the three throughputs, plus seeded and reused template times."""
    generators = load_generators(config.layout.fixtures_dir)
    seen: dict[str, str] = {}
    with database.provisioned(config) as server:
        with _machine("e2e", seen):
            started = time.perf_counter()
            plan = generators.seed_plan(config.profile, config.seed)
            timer = _seed_fresh(server, config, plan, "e2e")
            e2e_seconds = time.perf_counter() - started
        rows = timer.rows
        with _machine("raw", seen):
            raw_rows, copy_seconds, format_seconds = _raw_copy(
                server, config, generators.seed_plan(config.profile, config.seed)
            )
        with _machine("naive", seen):
            naive = _naive(server, config, NAIVE_ROWS)
        with _machine("template", seen):
            first = ensure_seeded_template(server, config)
        again = ensure_seeded_template(server, config)
    assert raw_rows == rows, "the raw COPY must load exactly the rows of the end-to-end run"
    e2e, raw = rows / e2e_seconds, rows / copy_seconds
    print(f"\nseeding throughput, profile {config.profile} ({rows:,} rows), same run:")
    print(f"  end to end (generate+COPY+VACUUM) {e2e:>10,.0f} rows/s  ({e2e_seconds:.1f}s)")
    print(f"    [{seen['e2e']}]")
    print(f"  raw COPY of the same rows         {raw:>10,.0f} rows/s  ({copy_seconds:.1f}s)")
    print(f"    (formatting them alone took {format_seconds:.1f}s) [{seen['raw']}]")
    print(f"  naive Faker per row + INSERT      {naive:>10,.0f} rows/s  ({NAIVE_ROWS} rows)")
    print(f"    [{seen['naive']}]")
    print(f"  end to end is {raw / e2e:.2f}x the raw COPY time; {e2e / naive:.0f}x naive")
    print(
        f"  template: {'reused' if first.reused else 'seeded'} in {first.seconds:.1f}s, "
        f"then {'reused' if again.reused else 'seeded'} in {again.seconds:.2f}s "
        f"[{seen['template']}]"
    )


def main(argv: list[str] | None = None) -> int:
    """Parse --profile/--seed/--backend and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--backend")
    args = parser.parse_args(argv)
    run(resolve_config(cli={"profile": args.profile, "seed": args.seed, "backend": args.backend}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
