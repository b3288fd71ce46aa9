"""Volume profiles: each profile's row-count arithmetic, and clear errors for bad profiles."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from pgperf.config import PACKAGE_ROOT, Layout
from pgperf.data.generators import load_generators
from pgperf.errors import SeedError

FIXTURES = Layout(PACKAGE_ROOT).fixtures_dir


@pytest.fixture(scope="module")
def profiles() -> ModuleType:
    """The fixtures package's profiles module (the package is loaded by path)."""
    load_generators(FIXTURES)
    import pgperf_fixtures.profiles as module  # type: ignore[import-not-found]

    return module


@pytest.mark.parametrize(
    ("name", "tasks"), [("ci", 200_000), ("default", 2_000_000), ("large", 20_000_000)]
)
def test_profile_sizes_follow_the_brief(profiles: ModuleType, name: str, tasks: int) -> None:
    assert profiles.load_profile(name).tasks == tasks


@pytest.mark.parametrize("name", ["tiny", "ci", "default", "large"])
def test_expected_rows_are_in_realistic_proportion(profiles: ModuleType, name: str) -> None:
    profile = profiles.load_profile(name)
    rows = profiles.expected_rows(profile)
    tasks = rows["tasks"]
    assert set(rows) == {
        "subscription_tiers", "ai_providers", "provider_models", "agent_categories", "users",
        "agents", "campaigns", "tasks", "generated_content", "credit_ledger",
    }  # fmt: skip
    assert rows["subscription_tiers"] == 5
    assert rows["ai_providers"] == 8
    assert 80 <= rows["provider_models"] <= 120
    assert rows["agent_categories"] == 20
    # Users: ~20 tasks each over the history; agents and campaigns per user.
    assert rows["users"] == round(tasks * 0.05)
    assert rows["agents"] == round(rows["users"] * 0.3)
    assert rows["campaigns"] == round(rows["users"] * 0.2)
    # Content comes from a part of the completed tasks; every completed task is charged.
    assert 0.25 * tasks < rows["generated_content"] < 0.6 * tasks
    assert 0.95 * tasks < rows["credit_ledger"] < 2.0 * tasks


def test_profiles_scale_tenfold(profiles: ModuleType) -> None:
    ci, default, large = (
        profiles.expected_rows(profiles.load_profile(n)) for n in ("ci", "default", "large")
    )
    for table in ("users", "agents", "campaigns", "tasks", "generated_content"):
        assert default[table] == pytest.approx(10 * ci[table], rel=0.01), table
        assert large[table] == pytest.approx(10 * default[table], rel=0.01), table
    assert sum(default.values()) > 5_000_000


def test_grants_follow_the_signup_curve(profiles: ModuleType) -> None:
    months = profiles.mean_months_since_signup(profiles.load_profile("ci"))
    # A quarter of the users predate the 18 months (the user base grows fourfold, like the
    # tasks); the rest sign up ever faster, so the mean account is younger than the ~13
    # months evenly spread sign-ups over the history and the 6 months before would give.
    assert 8 < months < 12.5


def test_data_now_is_fixed_and_in_utc(profiles: ModuleType) -> None:
    profile = profiles.load_profile("ci")
    assert profiles.data_now(profile).isoformat() == "2026-11-19T15:00:00+00:00"
    assert profile.now_epoch_ms == 1_795_100_400_000


def test_unknown_profile_lists_the_known_ones(profiles: ModuleType) -> None:
    with pytest.raises(SeedError, match=r"no profile 'huge'.*tiny, ci, default, large"):
        profiles.load_profile("huge")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profiles.toml"
    path.write_text((FIXTURES / "profiles.toml").read_text() + text)
    return path


def test_unknown_key_is_refused(profiles: ModuleType, tmp_path: Path) -> None:
    path = _write(tmp_path, "\n[profiles.odd]\ntasks = 10\ntaks = 3\n")
    with pytest.raises(SeedError, match=r"unknown keys \['taks'\]"):
        profiles.load_profile("odd", path)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("tasks = 0", "tasks must be positive"),
        ("failed_share = 1.5", r"shares must lie in \[0, 1\)"),
        ('data_now = "2026-11-01T12:00:00"', "data_now needs a UTC offset"),
        ('data_now = "yesterday"', "is not an ISO timestamp"),
    ],
)
def test_invalid_values_are_refused(
    profiles: ModuleType, tmp_path: Path, extra: str, message: str
) -> None:
    body = extra if extra.startswith("tasks") else f"tasks = 10\n{extra}"
    path = _write(tmp_path, f"\n[profiles.bad]\n{body}\n")
    with pytest.raises(SeedError, match=message):
        profiles.load_profile("bad", path)


def test_broken_toml_names_the_file(profiles: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text("[defaults\n")
    with pytest.raises(SeedError, match=r"cannot read the volume profiles from .*profiles.toml"):
        profiles.profile_names(path)
