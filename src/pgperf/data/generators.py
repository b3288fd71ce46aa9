"""The platform's data generators as the engine sees them: a package loaded by path.

The generators live in the project's ``fixtures/`` folder and hand over a :class:`SeedPlan`:
tables in FK order, each a stream of COPY-text chunks, plus SQL to run after the load and
values for ``pgperf.meta``. The engine knows no platform table.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Protocol, cast

from pgperf.config import PROFILE_NAME, Config
from pgperf.errors import SeedError
from pgperf.files import file_hash

#: Bump when the engine changes how rows land in the database (part of the content hash).
ENGINE_FORMAT = "1"
#: The module name the fixtures package is registered under while loaded.
GENERATORS_MODULE = "pgperf_fixtures"
#: Attribute of the loaded package holding the hash of the files it was imported from.
_FILES_HASH = "__pgperf_files_hash__"

Chunk = tuple[int, str]  # (rows in the chunk, their COPY text)


@dataclass(frozen=True)
class TableLoad:
    """One table to load: its columns and a stream of COPY-text chunks."""

    table: str
    columns: tuple[str, ...]
    expected_rows: int  # for the progress bar; the actual count may differ a little
    chunks: Callable[[], Iterable[Chunk]]


@dataclass(frozen=True)
class SeedPlan:
    """What the generators hand the engine: tables in FK order, post-load SQL, meta values."""

    tables: tuple[TableLoad, ...]
    after_load: tuple[Path, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)


class Generators(Protocol):
    """The contract a fixtures package fulfils (module-level functions)."""

    def profile_names(self) -> Sequence[str]:
        """Names of the volume profiles the package defines."""
        ...

    def fingerprint(self) -> str:
        """Versions of whatever the output depends on besides the files (e.g. Faker)."""
        ...

    def seed_plan(self, profile: str, seed: int) -> SeedPlan:
        """The tables to load for ``profile`` and ``seed``."""
        ...


def load_generators(fixtures_dir: Path) -> Generators:
    """Import the fixtures package from ``fixtures_dir/__init__.py`` and check its contract."""
    init = fixtures_dir / "__init__.py"
    if not init.is_file():
        raise SeedError(
            f"no data generators found: {init} does not exist",
            hint="the project's fixtures/ folder must be a package exposing seed_plan()",
        )
    files = file_hash(fixtures_dir)
    loaded = sys.modules.get(GENERATORS_MODULE)
    # Re-imported when the files changed since: the content hash must describe the code run.
    if (
        loaded is None
        or Path(str(loaded.__file__)) != init
        or getattr(loaded, _FILES_HASH, None) != files
    ):
        loaded = _import_package(init)
        setattr(loaded, _FILES_HASH, files)
    missing = [n for n in ("profile_names", "fingerprint", "seed_plan") if not hasattr(loaded, n)]
    if missing:
        raise SeedError(
            f"{init} lacks {', '.join(missing)}, which the seeding engine calls",
            hint="define them at module level (see pgperf.data.generators.Generators)",
        )
    return cast(Generators, loaded)


def _import_package(init: Path) -> ModuleType:
    # Registered under one fixed name so the package's own relative imports work.
    spec = importlib.util.spec_from_file_location(
        GENERATORS_MODULE, init, submodule_search_locations=[str(init.parent)]
    )
    if spec is None or spec.loader is None:
        raise SeedError(f"cannot import the data generators from {init}")
    for name in [m for m in sys.modules if m.split(".")[0] == GENERATORS_MODULE]:
        del sys.modules[name]  # a different fixtures folder was loaded before
    module = importlib.util.module_from_spec(spec)
    sys.modules[GENERATORS_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[GENERATORS_MODULE]
        raise
    return module


def check_profile(generators: Generators, profile: str) -> str:
    """Return ``profile`` if the generators define it and it fits a database name, else refuse."""
    names = list(generators.profile_names())
    if profile not in names:
        raise SeedError(
            f"unknown volume profile {profile!r}; the fixtures define {', '.join(names)}",
            hint="pass --profile with one of those (or set PGPERF_PROFILE)",
        )
    if not PROFILE_NAME.match(profile):
        raise SeedError(
            f"profile name {profile!r} cannot be part of a database name",
            hint="rename it in the profiles file: lowercase letters, digits and _, at most 20",
        )
    return profile


def content_hash(config: Config, generators: Generators) -> str:
    """Hash over schema.sql, fixtures/, profile, seed and the generators' fingerprint."""
    layout = config.layout
    digest = hashlib.sha256()
    for part in (
        ENGINE_FORMAT,
        file_hash(layout.schema_file),
        str(getattr(generators, _FILES_HASH, None) or file_hash(layout.fixtures_dir)),
        config.profile,
        str(config.seed),
        generators.fingerprint(),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]
