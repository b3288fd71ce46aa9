"""One frozen configuration, resolved once from CLI > ini > environment > defaults.

``SETTINGS`` is the one table of settings: each row names the Config field, the command-line
flags (the same for ``pytest`` and ``pgperf``), the environment variable, the help text and
the parser. The pytest plugin, the CLI and the environment layer are all derived from it
(``pgperf.options``), so a setting cannot mean one thing in one place and another elsewhere.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, cast, get_args

from pgperf.errors import ConfigError

BackendName = Literal["auto", "docker", "local", "dsn"]
BACKENDS: tuple[str, ...] = get_args(BackendName)
Group = Literal["server", "verdict", "paths"]

#: The checkout pgperf is installed from (an editable install): the default project root.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_DOCKER_IMAGE = "postgres:17"
#: A volume profile's name: it becomes part of database names and of baselines/<profile>.json.
PROFILE_NAME = re.compile(r"^[a-z0-9_]{1,20}$")
DEFAULT_CACHE_DIR = Path("/var/tmp/pgperf")


@dataclass(frozen=True)
class Layout:
    """Where the platform keeps what pgperf measures, under one project root."""

    #: What a platform checkout is made of (a same-run A/B exports these from git).
    PLATFORM: ClassVar[tuple[str, ...]] = ("sql", "fixtures", "budgets.toml")

    root: Path

    @property
    def sql_dir(self) -> Path:
        """The platform's SQL: schema, indexes, monitoring, queries, health, load."""
        return self.root / "sql"

    @property
    def schema_file(self) -> Path:
        """The tables, types and constraints."""
        return self.sql_dir / "schema.sql"

    @property
    def index_file(self) -> Path:
        """The performance indexes."""
        return self.sql_dir / "performance_indexes.sql"

    @property
    def monitoring_file(self) -> Path:
        """The monitoring views, functions and materialized views."""
        return self.sql_dir / "monitoring.sql"

    @property
    def queries_dir(self) -> Path:
        """The query catalog: one folder per feature."""
        return self.sql_dir / "queries"

    @property
    def health_dir(self) -> Path:
        """The schema-health checks."""
        return self.sql_dir / "health"

    @property
    def load_dir(self) -> Path:
        """The load scenarios and their population queries."""
        return self.sql_dir / "load"

    @property
    def population_file(self) -> Path:
        """The users (``user_id, weight``) the load scenarios and the plan census draw from."""
        return self.load_dir / "population.sql"

    @property
    def budgets_file(self) -> Path:
        """Each feature's p95 budget."""
        return self.root / "budgets.toml"

    @property
    def fixtures_dir(self) -> Path:
        """The data generators and volume profiles."""
        return self.root / "fixtures"

    @property
    def baselines_dir(self) -> Path:
        """Where promoted baselines live (``<profile>.json``)."""
        return self.root / "baselines"

    def baseline_for(self, profile: str) -> Path:
        """The stored baseline of a profile."""
        return self.baselines_dir / f"{profile}.json"

    @property
    def content(self) -> Mapping[str, Path]:
        """What defines a run's data and queries, by the name its content hash is kept under."""
        return {
            "schema": self.schema_file,
            "generators": self.fixtures_dir,
            "indexes": self.index_file,
            "monitoring": self.monitoring_file,
            "queries": self.queries_dir,
            "budgets": self.budgets_file,
        }


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``budgets.toml`` and ``sql/queries``."""
    for folder in (start, *start.parents):
        if (folder / "budgets.toml").is_file() and (folder / "sql" / "queries").is_dir():
            return folder
    return PACKAGE_ROOT


@dataclass(frozen=True)
class Config:
    """Everything a run needs to know, fixed before the first server starts."""

    backend: BackendName = "auto"
    dsn: str | None = None
    profile: str = "default"
    seed: int = 42
    docker_image: str = DEFAULT_DOCKER_IMAGE
    pg_bindir: Path | None = None
    # Where the local backend keeps its template cluster between runs (None: no reuse).
    cache_dir: Path | None = DEFAULT_CACHE_DIR
    startup_timeout_s: float = 60.0
    project_root: Path = PACKAGE_ROOT
    reports_dir: Path | None = None
    baseline: Path | None = None
    regression_threshold: float = 0.20
    latency_floor_ms: float = 0.5
    significance: float = 0.01

    @property
    def layout(self) -> Layout:
        """The platform's files under the project root."""
        return Layout(self.project_root)

    @property
    def reports(self) -> Path:
        """Where reports are written: ``reports_dir``, else ``<project root>/reports``."""
        return self.reports_dir or self.project_root / "reports"


@dataclass(frozen=True)
class Setting:
    """One setting: its Config field, flags, environment variable, help, parser, group."""

    field: str
    flags: tuple[str, ...]
    env: str
    help: str
    parse: Callable[[str], Any]
    group: Group

    @property
    def flag(self) -> str:
        """The flag hints and messages name."""
        return self.flags[0]


def _parse_backend(raw: str) -> BackendName:
    value = raw.strip().lower()
    if value not in BACKENDS:
        raise ConfigError(
            f"unknown backend {raw!r}",
            hint=f"choose one of {', '.join(BACKENDS)} (--pg-backend or PGPERF_BACKEND)",
        )
    return cast(BackendName, value)


def _parse_fraction(raw: str) -> float:
    text = raw.strip()
    value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if not 0 < value < 10:
        raise ValueError(f"{raw!r} is not a sensible fraction (e.g. 20% or 0.2)")
    return value


def _parse_positive(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{raw!r} is not a finite number >= 0")
    return value


def _parse_probability(raw: str) -> float:
    value = float(raw)
    if not 0 < value < 1:
        raise ValueError(f"{raw!r} is not a probability between 0 and 1")
    return value


def _parse_optional_path(raw: str) -> Path | None:
    text = raw.strip()
    return None if text.lower() in {"", "none", "off"} else Path(text).expanduser()


def _parse_path(raw: str) -> Path:
    return Path(raw.strip()).expanduser()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "backend",
        ("--pg-backend", "--backend"),
        "PGPERF_BACKEND",
        "auto | docker | local | dsn (default auto: docker if it answers, else local)",
        _parse_backend,
        "server",
    ),
    Setting(
        "dsn",
        ("--pg-dsn", "--dsn"),
        "PGPERF_DSN",
        "an existing server (dbname=postgres); pgperf creates and drops only pgperf_* dbs there",
        lambda raw: raw.strip() or None,
        "server",
    ),
    Setting(
        "profile",
        ("--profile",),
        "PGPERF_PROFILE",
        "volume profile of fixtures/profiles.toml: ci | default | large",
        str.strip,
        "server",
    ),
    Setting("seed", ("--seed",), "PGPERF_SEED", "seed of the data generators", int, "server"),
    Setting(
        "docker_image",
        ("--pg-image",),
        "PGPERF_DOCKER_IMAGE",
        f"image of the docker backend (default {DEFAULT_DOCKER_IMAGE})",
        str.strip,
        "server",
    ),
    Setting(
        "pg_bindir",
        ("--pg-bindir",),
        "PGPERF_PG_BINDIR",
        "PostgreSQL bin dir of the local backend (default: found on PATH or in /usr/lib)",
        _parse_optional_path,
        "server",
    ),
    Setting(
        "cache_dir",
        ("--pg-cache-dir",),
        "PGPERF_CACHE_DIR",
        f"where the local backend keeps templates between runs ('off': nowhere; "
        f"default {DEFAULT_CACHE_DIR})",
        _parse_optional_path,
        "server",
    ),
    Setting(
        "startup_timeout_s",
        ("--pg-startup-timeout",),
        "PGPERF_STARTUP_TIMEOUT",
        "seconds a server may take to answer SELECT 1 (default 60)",
        _parse_positive,
        "server",
    ),
    Setting(
        "project_root",
        ("--project-root",),
        "PGPERF_PROJECT_ROOT",
        "the platform's checkout: sql/, fixtures/, budgets.toml (default: found from the "
        "current folder up)",
        _parse_path,
        "paths",
    ),
    Setting(
        "reports_dir",
        ("--reports-dir",),
        "PGPERF_REPORTS_DIR",
        "where reports are written (default <project root>/reports)",
        _parse_optional_path,
        "paths",
    ),
    Setting(
        "baseline",
        ("--baseline",),
        "PGPERF_BASELINE",
        "the baseline results file to judge against (default: none under pytest; "
        "baselines/<profile>.json for pgperf verdict and report)",
        _parse_optional_path,
        "verdict",
    ),
    Setting(
        "regression_threshold",
        ("--regression-threshold",),
        "PGPERF_REGRESSION_THRESHOLD",
        "tolerated change of work and median latency, e.g. 20%% (default)",
        _parse_fraction,
        "verdict",
    ),
    Setting(
        "latency_floor_ms",
        ("--latency-floor-ms",),
        "PGPERF_LATENCY_FLOOR_MS",
        "against a stored baseline, median changes below this many ms never fail (0.5)",
        _parse_positive,
        "verdict",
    ),
    Setting(
        "significance",
        ("--significance",),
        "PGPERF_SIGNIFICANCE",
        "against a stored baseline, the Mann-Whitney p below which a slowdown counts (0.01)",
        _parse_probability,
        "verdict",
    ),
)

_BY_FIELD: Mapping[str, Setting] = {s.field: s for s in SETTINGS}


def setting(field: str) -> Setting:
    """The row of the settings table for a Config field."""
    return _BY_FIELD[field]


def _parse(name: str, raw: object, source: str) -> Any:
    text = raw if isinstance(raw, str) else str(raw)  # a value given in code is checked too
    try:
        return _BY_FIELD[name].parse(text)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        row = _BY_FIELD[name]
        raise ConfigError(
            f"invalid value {text!r} for {name} (from {source}): {exc}",
            hint=f"fix {row.flag} / {row.env}, or unset it to use the default",
        ) from exc


def resolve_config(
    cli: Mapping[str, object] | None = None,
    ini: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Build the Config: CLI values win over ini values, which win over the environment."""
    environ = os.environ if env is None else env
    known = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    layers: list[tuple[str, Mapping[str, object]]] = [
        ("environment", {s.field: environ[s.env] for s in SETTINGS if s.env in environ}),
        ("ini", ini or {}),
        ("command line", cli or {}),
    ]
    for source, layer in layers:
        for name, raw in layer.items():
            if name not in known:
                raise ConfigError(f"unknown setting {name!r} from {source}")
            if raw is None or raw == "":
                continue
            values[name] = _parse(name, raw, source)
    if values.get("dsn") and "backend" not in values:
        # A DSN given without a backend means "use that server".
        values["backend"] = "dsn"
    values.setdefault("project_root", find_project_root(Path.cwd()))
    config = Config(**values)
    if config.backend == "dsn" and not config.dsn:
        raise ConfigError(
            "backend 'dsn' needs a connection string, and none was given",
            hint="set PGPERF_DSN or pass --pg-dsn 'host=... dbname=postgres user=...'",
        )
    return config
