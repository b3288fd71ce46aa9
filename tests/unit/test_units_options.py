"""pgperf.options: one settings table drives the options of pgperf (argparse) and of pytest."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from pgperf.commands.cli import build_parser
from pgperf.config import PACKAGE_ROOT, SETTINGS, Config, Group, resolve_config, setting
from pgperf.options import ALL_GROUPS, add_options, chosen, dest, ini_key, rows

pytest_plugins = ["pytester"]

#: Every setting given on the command line, the first flag of each.
ARGV = [
    "--pg-backend", "dsn",
    "--pg-dsn", "host=/tmp dbname=postgres",
    "--profile", "ci",
    "--seed", "7",
    "--pg-image", "postgres:16",
    "--pg-bindir", "/usr/lib/postgresql/16/bin",
    "--pg-cache-dir", "off",
    "--pg-startup-timeout", "30",
    "--project-root", str(PACKAGE_ROOT),
    "--reports-dir", "/tmp/pgperf-reports",
    "--baseline", "/tmp/pgperf-baseline.json",
    "--regression-threshold", "30%",
    "--latency-floor-ms", "1.5",
    "--significance", "0.05",
]  # fmt: skip
EXPECTED = Config(
    backend="dsn",
    dsn="host=/tmp dbname=postgres",
    profile="ci",
    seed=7,
    docker_image="postgres:16",
    pg_bindir=Path("/usr/lib/postgresql/16/bin"),
    cache_dir=None,
    startup_timeout_s=30.0,
    project_root=PACKAGE_ROOT,
    reports_dir=Path("/tmp/pgperf-reports"),
    baseline=Path("/tmp/pgperf-baseline.json"),
    regression_threshold=0.3,
    latency_floor_ms=1.5,
    significance=0.05,
)


def _parser(groups: Sequence[Group]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pgperf-test")
    add_options(parser.add_argument, groups)
    return parser


def _resolved(
    parser: argparse.ArgumentParser, argv: Sequence[str], groups: Sequence[Group]
) -> Config:
    args = parser.parse_args(argv)
    return resolve_config(cli=chosen(lambda name: getattr(args, name), groups), env={})


def test_the_table_names_every_config_field_once() -> None:
    assert [row.field for row in SETTINGS] == [
        "backend", "dsn", "profile", "seed", "docker_image", "pg_bindir", "cache_dir",
        "startup_timeout_s", "project_root", "reports_dir", "baseline", "regression_threshold",
        "latency_floor_ms", "significance",
    ]  # fmt: skip
    flags = [flag for row in SETTINGS for flag in row.flags]
    assert len(flags) == len(set(flags))
    assert setting("backend").flags == ("--pg-backend", "--backend")
    assert setting("dsn").flags == ("--pg-dsn", "--dsn")
    assert setting("dsn").env == "PGPERF_DSN"
    assert dest(setting("seed")) == ini_key(setting("seed")) == "pgperf_seed"
    assert {row.group for row in SETTINGS} == set(ALL_GROUPS)


@pytest.mark.parametrize(
    "groups", [("server",), ("verdict",), ("paths",), ("verdict", "paths"), ALL_GROUPS]
)
def test_add_options_registers_exactly_the_chosen_groups(
    groups: tuple[Group, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    parser = _parser(groups)
    help_text = parser.format_help()
    for row in SETTINGS:
        for flag in row.flags:
            if row.group in groups:
                assert getattr(parser.parse_args([flag, "1"]), dest(row)) == "1"
                assert f"(env {row.env})" in " ".join(help_text.split())
            else:
                with pytest.raises(SystemExit):
                    parser.parse_args([flag, "1"])
    assert [r.group for r in rows(groups)] == [r.group for r in SETTINGS if r.group in groups]
    capsys.readouterr()


def test_chosen_reads_the_options_back_and_resolve_config_types_them() -> None:
    parser = _parser(ALL_GROUPS)
    args = parser.parse_args(ARGV)
    raw = chosen(lambda name: getattr(args, name), ALL_GROUPS)
    assert raw["profile"] == "ci"
    assert raw["seed"] == "7"  # as given: resolve_config parses it with the table's parser
    assert set(raw) == {row.field for row in SETTINGS}
    assert resolve_config(cli=raw, env={}) == EXPECTED


def test_aliases_and_groups_give_the_same_values() -> None:
    parser = _parser(("server",))
    config = _resolved(parser, ["--backend", "dsn", "--dsn", "host=h dbname=postgres"], ("server",))
    assert (config.backend, config.dsn) == ("dsn", "host=h dbname=postgres")
    server = chosen(lambda name: getattr(parser.parse_args(["--seed", "3"]), name), ("server",))
    assert set(server) == {r.field for r in SETTINGS if r.group == "server"}
    assert server["seed"] == "3"


def test_options_not_given_leave_the_defaults_and_the_environment(tmp_path: Path) -> None:
    parser = _parser(ALL_GROUPS)
    args = parser.parse_args([])
    raw = chosen(lambda name: getattr(args, name), ALL_GROUPS)
    assert set(raw.values()) == {None}
    env = {"PGPERF_PROFILE": "large", "PGPERF_SEED": "9"}
    config = resolve_config(cli=raw, env=env)
    assert (config.profile, config.seed) == ("large", 9)
    assert config.regression_threshold == Config().regression_threshold
    given = _parser(ALL_GROUPS).parse_args(["--profile", "ci"])
    cli = chosen(lambda name: getattr(given, name), ALL_GROUPS)
    assert resolve_config(cli=cli, env=env).profile == "ci"  # the command line wins


def test_pgperf_subcommands_take_the_flags_of_their_groups() -> None:
    parser = build_parser()
    args = parser.parse_args(
        ["compare", "a.json", "b.json", "--regression-threshold", "25%", "--significance", "0.02"]
    )
    config = resolve_config(cli=chosen(lambda name: getattr(args, name, None), ALL_GROUPS), env={})
    assert (config.regression_threshold, config.significance) == (0.25, 0.02)
    seed = parser.parse_args(["seed", "--profile", "tiny", "--seed", "5", "--pg-backend", "local"])
    config = resolve_config(cli=chosen(lambda name: getattr(seed, name, None), ALL_GROUPS), env={})
    assert (config.profile, config.seed, config.backend) == ("tiny", 5, "local")


INNER_TEST = """
from pathlib import Path

from pgperf.commands.pytest_plugin import config_of


def test_config(pytestconfig):
    Path("config.repr").write_text(repr(config_of(pytestconfig)))
"""


def test_pytest_takes_the_same_flags_and_resolves_the_same_config(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for row in SETTINGS:
        monkeypatch.delenv(row.env, raising=False)
    pytester.makepyfile(test_inner=INNER_TEST)
    result = pytester.runpytest(
        "-p", "pgperf.commands.pytest_plugin", "-p", "no:cacheprovider", *ARGV
    )
    result.assert_outcomes(passed=1)
    from_pytest = (pytester.path / "config.repr").read_text()
    from_argparse = _resolved(_parser(ALL_GROUPS), ARGV, ALL_GROUPS)
    assert from_pytest == repr(from_argparse) == repr(EXPECTED)


def test_pytest_reads_the_same_settings_from_its_ini_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for row in SETTINGS:
        monkeypatch.delenv(row.env, raising=False)
    pytester.makeini(
        f"[pytest]\npgperf_profile = ci\npgperf_seed = 11\npgperf_project_root = {PACKAGE_ROOT}\n"
    )
    pytester.makepyfile(test_inner=INNER_TEST)
    result = pytester.runpytest(
        "-p", "pgperf.commands.pytest_plugin", "-p", "no:cacheprovider", "--seed", "12"
    )
    result.assert_outcomes(passed=1)
    config = (pytester.path / "config.repr").read_text()
    assert "profile='ci'" in config
    assert "seed=12" in config  # the command line wins over the ini file


def test_pytest_refuses_a_bad_value_with_the_flag_to_fix(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for row in SETTINGS:
        monkeypatch.delenv(row.env, raising=False)
    pytester.makepyfile(test_inner=INNER_TEST)
    result = pytester.runpytest("-p", "pgperf.commands.pytest_plugin", "--significance", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid value '2' for significance*"])
    result.stderr.fnmatch_lines(["*fix --significance / PGPERF_SIGNIFICANCE*"])


def test_pytest_help_lists_every_flag_with_its_environment_variable(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest("-p", "pgperf.commands.pytest_plugin", "--help")
    assert result.ret == pytest.ExitCode.OK
    text = " ".join(result.stdout.str().split())
    for row in SETTINGS:
        for flag in row.flags:
            assert re.search(rf"(?<![\w-]){re.escape(flag)}[= ]", text), flag
        assert f"(env {row.env})" in text, row.env
