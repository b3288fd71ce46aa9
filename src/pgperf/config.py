"""One frozen configuration, resolved once from CLI > ini > environment > defaults."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, cast, get_args

from pgperf.errors import ConfigError

BackendName = Literal["auto", "docker", "local", "dsn"]
BACKENDS: tuple[str, ...] = get_args(BackendName)

#: The project root: the folder holding sql/, fixtures/ and tests/perf/.
PROJECT_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_DOCKER_IMAGE = "postgres:17"
DEFAULT_CACHE_DIR = Path("/var/tmp/pgperf")


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
    project_root: Path = PROJECT_ROOT
    reports_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "reports")
    baseline: Path | None = None
    regression_threshold: float = 0.20
    latency_floor_ms: float = 0.5
    significance: float = 0.01

    @property
    def sql_dir(self) -> Path:
        """Folder of the platform's SQL (schema, indexes, monitoring, queries)."""
        return self.project_root / "sql"

    @property
    def fixtures_dir(self) -> Path:
        """Folder of the platform's data generators and volume profiles."""
        return self.project_root / "fixtures"


# Environment variables and the Config field each one sets.
ENV_VARS: Mapping[str, str] = {
    "PGPERF_BACKEND": "backend",
    "PGPERF_DSN": "dsn",
    "PGPERF_PROFILE": "profile",
    "PGPERF_SEED": "seed",
    "PGPERF_DOCKER_IMAGE": "docker_image",
    "PGPERF_PG_BINDIR": "pg_bindir",
    "PGPERF_CACHE_DIR": "cache_dir",
    "PGPERF_STARTUP_TIMEOUT": "startup_timeout_s",
    "PGPERF_REPORTS_DIR": "reports_dir",
    "PGPERF_BASELINE": "baseline",
    "PGPERF_REGRESSION_THRESHOLD": "regression_threshold",
    "PGPERF_LATENCY_FLOOR_MS": "latency_floor_ms",
    "PGPERF_SIGNIFICANCE": "significance",
}


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


def _parse_optional_path(raw: str) -> Path | None:
    text = raw.strip()
    return None if text.lower() in {"", "none", "off"} else Path(text).expanduser()


_PARSERS: Mapping[str, Callable[[str], Any]] = {
    "backend": _parse_backend,
    "dsn": lambda raw: raw.strip() or None,
    "profile": str.strip,
    "seed": int,
    "docker_image": str.strip,
    "pg_bindir": _parse_optional_path,
    "cache_dir": _parse_optional_path,
    "startup_timeout_s": float,
    "reports_dir": lambda raw: Path(raw).expanduser(),
    "baseline": _parse_optional_path,
    "regression_threshold": _parse_fraction,
    "latency_floor_ms": float,
    "significance": float,
}


def _parse(name: str, raw: object, source: str) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return _PARSERS[name](raw)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"invalid value {raw!r} for {name} (from {source}): {exc}",
            hint="fix the value or unset it to use the default",
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
        ("environment", {ENV_VARS[k]: v for k, v in environ.items() if k in ENV_VARS}),
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
    config = Config(**values)
    if config.backend == "dsn" and not config.dsn:
        raise ConfigError(
            "backend 'dsn' needs a connection string, and none was given",
            hint="set PGPERF_DSN or pass --pg-dsn 'host=... dbname=postgres user=...'",
        )
    return config
