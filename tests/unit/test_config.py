"""Config resolution: CLI > ini > environment > defaults, and clear errors for bad values."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

import pytest

from pgperf.config import PACKAGE_ROOT, SETTINGS, Config, Setting, resolve_config, setting
from pgperf.errors import ConfigError
from pgperf.options import ALL_GROUPS, add_options, chosen


def test_defaults_without_any_source() -> None:
    config = resolve_config(cli={}, ini={}, env={})
    assert config == Config()
    assert config.backend == "auto"
    assert config.regression_threshold == pytest.approx(0.20)


def test_cli_beats_ini_beats_environment() -> None:
    env = {"PGPERF_PROFILE": "large", "PGPERF_SEED": "7", "PGPERF_BACKEND": "local"}
    ini = {"profile": "default", "seed": "8"}
    cli = {"profile": "ci"}
    config = resolve_config(cli=cli, ini=ini, env=env)
    assert (config.profile, config.seed, config.backend) == ("ci", 8, "local")


def test_none_and_empty_values_do_not_override() -> None:
    config = resolve_config(
        cli={"profile": None}, ini={"profile": ""}, env={"PGPERF_PROFILE": "ci"}
    )
    assert config.profile == "ci"


def test_dsn_alone_selects_the_dsn_backend() -> None:
    config = resolve_config(env={"PGPERF_DSN": "host=db dbname=postgres"})
    assert config.backend == "dsn"
    assert config.dsn == "host=db dbname=postgres"


def test_dsn_backend_without_dsn_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="PGPERF_DSN"):
        resolve_config(cli={"backend": "dsn"}, env={})


def test_unknown_backend_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="auto, docker, local, dsn"):
        resolve_config(env={"PGPERF_BACKEND": "podman"})


@pytest.mark.parametrize(("raw", "expected"), [("20%", 0.2), ("0.35", 0.35), ("5 %", 0.05)])
def test_threshold_accepts_percent_or_fraction(raw: str, expected: float) -> None:
    config = resolve_config(cli={"regression_threshold": raw}, env={})
    assert config.regression_threshold == pytest.approx(expected)


def test_bad_number_names_setting_and_source() -> None:
    with pytest.raises(ConfigError, match=r"seed.*environment"):
        resolve_config(env={"PGPERF_SEED": "forty-two"})


def test_cache_dir_off_disables_reuse() -> None:
    assert resolve_config(env={"PGPERF_CACHE_DIR": "off"}).cache_dir is None
    assert resolve_config(env={"PGPERF_CACHE_DIR": "/x/y"}).cache_dir == Path("/x/y")


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(AttributeError):
        config.profile = "ci"  # type: ignore[misc]


# --------------------------------------------------------------------------- the settings table

# A valid raw value of every setting, and the value its Config field gets from it.
SAMPLES: dict[str, tuple[str, object]] = {
    "backend": ("LOCAL", "local"),
    "dsn": ("host=db dbname=postgres", "host=db dbname=postgres"),
    "profile": (" large ", "large"),
    "seed": ("7", 7),
    "docker_image": ("postgres:16", "postgres:16"),
    "pg_bindir": ("/opt/pg/bin", Path("/opt/pg/bin")),
    "cache_dir": ("/x/cache", Path("/x/cache")),
    "startup_timeout_s": ("12.5", 12.5),
    "project_root": ("/x/project", Path("/x/project")),
    "reports_dir": ("/x/reports", Path("/x/reports")),
    "baseline": ("/x/baselines/ci.json", Path("/x/baselines/ci.json")),
    "regression_threshold": ("35%", 0.35),
    "latency_floor_ms": ("1.5", 1.5),
    "significance": ("0.05", 0.05),
}

FLAGS = {
    "backend": ("--pg-backend", "--backend"),
    "dsn": ("--pg-dsn", "--dsn"),
    "profile": ("--profile",),
    "seed": ("--seed",),
    "docker_image": ("--pg-image",),
    "pg_bindir": ("--pg-bindir",),
    "cache_dir": ("--pg-cache-dir",),
    "startup_timeout_s": ("--pg-startup-timeout",),
    "project_root": ("--project-root",),
    "reports_dir": ("--reports-dir",),
    "baseline": ("--baseline",),
    "regression_threshold": ("--regression-threshold",),
    "latency_floor_ms": ("--latency-floor-ms",),
    "significance": ("--significance",),
}


def test_the_table_has_one_row_per_config_field() -> None:
    fields = [row.field for row in SETTINGS]
    assert len(fields) == len(set(fields))
    assert set(fields) == {f.name for f in dataclasses.fields(Config)}
    assert set(SAMPLES) == set(fields)  # a new setting needs a sample here


def test_flags_are_the_documented_ones_and_unique() -> None:
    assert {row.field: row.flags for row in SETTINGS} == FLAGS
    every = [flag for row in SETTINGS for flag in row.flags]
    assert len(every) == len(set(every))
    assert all(flag.startswith("--") for flag in every)


def test_environment_variables_are_unique_and_named_pgperf() -> None:
    names = [row.env for row in SETTINGS]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"PGPERF_[A-Z_]+", name) for name in names)


@pytest.mark.parametrize("row", SETTINGS, ids=lambda row: row.field)
def test_setting_gives_the_row_and_its_first_flag(row: Setting) -> None:
    assert setting(row.field) is row
    assert row.flag == row.flags[0]
    assert row.flag == FLAGS[row.field][0]


def test_setting_of_an_unknown_field_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        setting("threshold")


@pytest.mark.parametrize("row", SETTINGS, ids=lambda row: row.field)
def test_each_environment_variable_sets_its_field(row: Setting) -> None:
    raw, expected = SAMPLES[row.field]
    config = resolve_config(cli={}, ini={}, env={row.env: raw})
    assert getattr(config, row.field) == expected
    # ... and nothing else (a DSN alone also selects the dsn backend).
    changed = {
        f.name
        for f in dataclasses.fields(Config)
        if getattr(config, f.name) != getattr(resolve_config(cli={}, ini={}, env={}), f.name)
    }
    assert changed == ({"dsn", "backend"} if row.field == "dsn" else {row.field})


@pytest.mark.parametrize("row", SETTINGS, ids=lambda row: row.field)
def test_each_flag_sets_its_field_through_the_option_table(row: Setting) -> None:
    raw, expected = SAMPLES[row.field]
    parser = argparse.ArgumentParser()
    add_options(parser.add_argument, ALL_GROUPS)
    for flag in row.flags:
        args = parser.parse_args([flag, raw])
        cli = chosen(vars(args).get, ALL_GROUPS)
        assert getattr(resolve_config(cli=cli, env={}), row.field) == expected, flag


@pytest.mark.parametrize("row", SETTINGS, ids=lambda row: row.field)
def test_each_ini_key_sets_its_field(row: Setting) -> None:
    raw, expected = SAMPLES[row.field]
    assert getattr(resolve_config(ini={row.field: raw}, env={}), row.field) == expected


def test_cli_beats_ini_beats_environment_for_verdict_settings() -> None:
    env = {"PGPERF_REGRESSION_THRESHOLD": "10%", "PGPERF_SIGNIFICANCE": "0.05"}
    env["PGPERF_LATENCY_FLOOR_MS"] = "3"
    ini = {"regression_threshold": "30%", "significance": "0.02"}
    cli = {"regression_threshold": "50%"}
    config = resolve_config(cli=cli, ini=ini, env=env)
    assert config.regression_threshold == pytest.approx(0.5)
    assert config.significance == pytest.approx(0.02)
    assert config.latency_floor_ms == pytest.approx(3.0)


def test_cli_beats_the_environment_for_paths() -> None:
    env = {"PGPERF_BASELINE": "/env/b.json", "PGPERF_REPORTS_DIR": "/env/reports"}
    config = resolve_config(cli={"baseline": "/cli/b.json"}, env=env)
    assert config.baseline == Path("/cli/b.json")
    assert config.reports == Path("/env/reports")


def test_unknown_setting_is_refused_with_its_source() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting 'threshold' from ini"):
        resolve_config(ini={"threshold": "20%"}, env={})


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("regression_threshold", "nan"),
        ("regression_threshold", "inf"),
        ("regression_threshold", "-inf"),
        ("regression_threshold", "nan%"),
        ("regression_threshold", "inf%"),
        ("regression_threshold", "0"),
        ("regression_threshold", "-20%"),
        ("latency_floor_ms", "nan"),
        ("latency_floor_ms", "inf"),
        ("latency_floor_ms", "-1"),
        ("significance", "nan"),
        ("significance", "inf"),
        ("significance", "1"),
        ("startup_timeout_s", "nan"),
        ("startup_timeout_s", "inf"),
    ],
)
@pytest.mark.parametrize("source", ["command line", "ini", "environment"])
def test_non_finite_or_out_of_range_thresholds_are_refused(
    field: str, raw: str, source: str
) -> None:
    row = setting(field)
    layers = {
        "command line": {"cli": {field: raw}, "env": {}},
        "ini": {"ini": {field: raw}, "env": {}},
        "environment": {"env": {row.env: raw}},
    }
    with pytest.raises(ConfigError) as caught:
        resolve_config(**layers[source])  # type: ignore[arg-type]
    assert f"invalid value {raw!r} for {field} (from {source})" in caught.value.message
    assert caught.value.hint == f"fix {row.flag} / {row.env}, or unset it to use the default"


def test_project_root_is_found_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sql" / "queries").mkdir(parents=True)
    (tmp_path / "budgets.toml").write_text("")
    (tmp_path / "sql" / "queries" / "dashboard").mkdir()
    monkeypatch.chdir(tmp_path / "sql" / "queries" / "dashboard")
    config = resolve_config(env={})
    assert config.project_root == tmp_path
    assert config.reports == tmp_path / "reports"
    assert config.layout.baseline_for("ci") == tmp_path / "baselines" / "ci.json"


def test_outside_any_project_the_root_is_the_package_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_config(env={}).project_root == PACKAGE_ROOT
