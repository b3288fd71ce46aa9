"""Config resolution: CLI > ini > environment > defaults, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgperf.config import Config, resolve_config
from pgperf.errors import ConfigError


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
