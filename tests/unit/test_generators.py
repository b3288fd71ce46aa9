"""The generators without a database: COPY text, determinism, and the shapes of the world."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgperf.config import PACKAGE_ROOT, Config
from pgperf.data.generators import check_profile, content_hash, load_generators
from pgperf.data.templates import BENCH, SEEDED
from pgperf.errors import SeedError
from pgperf.progress import LineReporter, QuietReporter, make_reporter

FIXTURES = Config(project_root=PACKAGE_ROOT).layout.fixtures_dir
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def fx() -> ModuleType:
    """The fixtures package, loaded by path as the engine does."""
    return load_generators(FIXTURES)  # type: ignore[return-value]


@pytest.fixture(scope="module")
def ci_world(fx: ModuleType) -> object:
    """The numeric world of the ci profile (numpy only; about a second)."""
    from pgperf_fixtures import world  # type: ignore[import-not-found]

    return world.World(fx.profiles.load_profile("ci"), 42)


def _copy_unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r"}.get(m[1], m[1]), text)


def _tables(plan: object) -> dict[str, str]:
    return {t.table: "".join(text for _, text in t.chunks()) for t in plan.tables}  # type: ignore[attr-defined]


@given(st.text())
def test_json_strings_round_trip_through_copy(fx: ModuleType, text: str) -> None:
    body = fx.copytext.json_string(text)
    assert "\t" not in body
    assert "\n" not in body
    assert json.loads(f'"{_copy_unescape(body)}"') == text


@given(st.text())
def test_plain_text_survives_copy_with_separators_blanked(fx: ModuleType, text: str) -> None:
    escaped = fx.copytext.escape(text)
    assert not re.search(r"[\t\n\r]", escaped)
    assert _copy_unescape(escaped) == re.sub(r"[\t\n\r]", " ", text)


@settings(max_examples=50)
@given(st.lists(st.integers(1_700_000_000_000, 1_800_000_000_000), min_size=1, max_size=50))
def test_timestamps_match_numpy_formatting(fx: ModuleType, values: list[int]) -> None:
    ms = np.array(values, dtype=np.int64)
    stamps = fx.copytext.Timestamps(19_000, 21_000)
    expected = [
        s.replace("T", " ") + "+00"
        for s in np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms")
    ]
    assert stamps.strings(ms) == expected


def test_same_seed_renders_identical_rows(fx: ModuleType) -> None:
    first = _tables(fx.seed_plan("tiny", 7))
    second = _tables(fx.seed_plan("tiny", 7))
    assert first == second
    assert len(first["tasks"].splitlines()) == 4000


def test_another_seed_renders_other_rows(fx: ModuleType) -> None:
    first, other = _tables(fx.seed_plan("tiny", 7)), _tables(fx.seed_plan("tiny", 8))
    for table in ("users", "tasks", "generated_content", "credit_ledger"):
        assert first[table] != other[table], table
    assert first["subscription_tiers"] == other["subscription_tiers"]


def test_every_row_has_one_field_per_column(fx: ModuleType) -> None:
    for load in fx.seed_plan("tiny", 3).tables:
        for _, text in load.chunks():
            widths = {line.count("\t") + 1 for line in text.splitlines()}
            assert widths == {len(load.columns)}, load.table


def test_tasks_follow_the_clock(ci_world: object) -> None:
    t, now = ci_world.tasks, ci_world.now  # type: ignore[attr-defined]
    created, started, completed = t["created"], t["started"], t["completed"]
    assert np.all(np.diff(created) >= 0), "ids must grow with created_at"
    has_start = started >= 0
    assert np.all(started[has_start] >= created[has_start])
    ended = completed >= 0
    assert np.all(completed[ended] >= started[ended])
    assert np.all(completed[ended] <= now)
    assert created.min() >= now - 18 * 31 * 24 * HOUR_MS


def test_live_tasks_sit_in_the_last_hours(ci_world: object) -> None:
    t, now = ci_world.tasks, ci_world.now  # type: ignore[attr-defined]
    live = t["status"] < 3  # pending, queued, running
    assert 5 <= live.sum() <= 0.001 * len(live)
    assert (now - t["created"][live]).max() < 6 * HOUR_MS


def test_users_exist_before_their_tasks(ci_world: object) -> None:
    users, t = ci_world.users, ci_world.tasks  # type: ignore[attr-defined]
    assert np.all(users["created"][t["user"]] <= t["created"])


def test_top_percent_of_users_own_a_large_share(ci_world: object) -> None:
    t = ci_world.tasks  # type: ignore[attr-defined]
    counts = np.sort(np.bincount(t["user"], minlength=len(ci_world.users["created"])))[::-1]  # type: ignore[attr-defined]
    top = counts[: len(counts) // 100].sum() / counts.sum()
    assert top > 0.25
    active = counts[counts > 0]
    median = np.median(active)
    # Thousands for the heaviest user on ci, tens for the median one: a SaaS, not one bot.
    assert median >= 5
    assert 100 <= active[0] / median <= 1000
    assert active[0] / counts.sum() < 0.03


def test_linked_rows_predate_their_tasks(ci_world: object) -> None:
    w = ci_world
    t, a, c = w.tasks, w.agents, w.campaigns  # type: ignore[attr-defined]
    agent, campaign = t["agent"] >= 0, t["campaign"] >= 0
    assert np.all(a["created"][t["agent"][agent]] <= t["created"][agent])
    linked = t["campaign"][campaign]
    created = t["created"][campaign]
    assert np.all(c["created"][linked] <= created)
    starts, ends = c["starts"][linked], c["ends"][linked]
    assert np.all((starts < 0) | (starts <= created))
    assert np.all((ends < 0) | (created <= ends))
    assert np.all(c["owner"][linked] == t["user"][campaign])
    assert 0.08 < campaign.mean() < 0.12


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**31 - 1))
def test_any_seed_links_only_to_earlier_rows(fx: ModuleType, seed: int) -> None:
    from pgperf_fixtures import world  # type: ignore[import-not-found]

    w = world.World(fx.profiles.load_profile("tiny"), seed)
    t, a, c, g, ledger = w.tasks, w.agents, w.campaigns, w.content, w.ledger
    agent, campaign = t["agent"] >= 0, t["campaign"] >= 0
    assert np.all(a["created"][t["agent"][agent]] <= t["created"][agent])
    opens = np.where(c["starts"] >= 0, c["starts"], c["created"])[t["campaign"][campaign]]
    ends = c["ends"][t["campaign"][campaign]]
    assert np.all(opens <= t["created"][campaign])
    assert np.all((ends < 0) | (t["created"][campaign] <= ends))
    assert np.all(g["created"] >= t["completed"][g["task"]])
    charged = ledger["task"] >= 0
    assert np.all(ledger["created"][charged] >= t["completed"][ledger["task"][charged]])
    assert np.all(ledger["created"] >= w.users["created"][ledger["user"]])
    login = w.last_login
    assert np.all(login[t["user"]] >= t["created"])


def test_running_item_is_chosen_only_among_running_ones(fx: ModuleType) -> None:
    from pgperf_fixtures import world  # type: ignore[import-not-found]

    # Owner 0: items 0 [0, 10], 1 [5, open], 2 [20, 30]; owner 1: item 3 [0, 1]; owner 2: none.
    owner = np.array([0, 0, 0, 1])
    opens, ends = np.array([0, 5, 20, 0]), np.array([10, -1, 30, 1])
    index = world._ByOwner.build(owner, opens, 3, horizon=100)
    owners = np.array([0, 0, 0, 0, 1, 1, 2])
    times = np.array([3, 7, 15, 25, 1, 2, 5])
    allowed = [{0}, {0, 1}, {1}, {1, 2}, {3}, {-1}, {-1}]
    seen: list[set[int]] = [set() for _ in owners]
    for seed in range(40):
        picked = world._pick_running(np.random.default_rng(seed), index, ends, owners, times)
        for i, item in enumerate(picked.tolist()):
            seen[i].add(item)
    assert seen == allowed


def test_growth_and_weekly_seasonality(ci_world: object) -> None:
    created = ci_world.tasks["created"]  # type: ignore[attr-defined]
    months = (created - created.min()) // (30 * 24 * HOUR_MS)
    per_month = np.bincount(months)
    assert per_month[-2] > 2.5 * per_month[0]
    weekday = (created // (24 * HOUR_MS) + 3) % 7
    per_day = np.bincount(weekday, minlength=7)
    assert per_day[5:].mean() < 0.7 * per_day[:5].mean()


def test_unknown_profile_is_refused(fx: ModuleType) -> None:
    with pytest.raises(SeedError, match="unknown volume profile 'xl'"):
        check_profile(fx, "xl")  # type: ignore[arg-type]


def test_content_hash_covers_profile_and_seed(fx: ModuleType) -> None:
    base = Config(profile="ci", seed=1)
    digests = {
        content_hash(c, fx)  # type: ignore[arg-type]
        for c in (base, replace(base, seed=2), replace(base, profile="tiny"))
    }
    assert len(digests) == 3
    assert content_hash(base, fx) == content_hash(Config(profile="ci", seed=1), fx)  # type: ignore[arg-type]
    assert SEEDED.name("ci", "0123456789abcdef") == "pgperf_seed_ci_0123456789abcdef"
    assert BENCH.name("ci", "0123456789abcdef") == "pgperf_bench_ci_0123456789abcdef"


def test_missing_generators_say_where_they_were_looked_for(tmp_path: object) -> None:
    with pytest.raises(SeedError, match=r"no data generators found: .*__init__.py"):
        load_generators(tmp_path)  # type: ignore[arg-type]


def test_generators_without_the_contract_are_refused(tmp_path: object) -> None:
    folder = tmp_path / "fixtures"  # type: ignore[operator]
    folder.mkdir()
    (folder / "__init__.py").write_text("def profile_names():\n    return ['x']\n")
    try:
        with pytest.raises(SeedError, match="lacks fingerprint, seed_plan"):
            load_generators(folder)
    finally:
        load_generators(FIXTURES)  # leave the real package loaded for other tests


def test_line_reporter_prints_one_line_per_table() -> None:
    out = io.StringIO()
    reporter = make_reporter(enabled=True, stream=out)
    assert isinstance(reporter, LineReporter)
    with reporter.task("seed tasks", total=10, unit="rows", rate=True) as task:
        task.advance(4)
        task.advance(6)
    reporter.note("seeded template x in 1.0s")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert re.match(r"pgperf: seed tasks\s+10 rows\s+[\d.]+s\s+(-|[\d,.]+k? rows/s)$", lines[0])
    assert lines[1] == "pgperf: seeded template x in 1.0s"


def test_disabled_progress_is_silent() -> None:
    assert isinstance(make_reporter(enabled=False), QuietReporter)
