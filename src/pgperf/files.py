"""Files: content hashes, atomic writes, capped reads, the engine's own SQL, display paths.

Pure: no database, no psycopg. Every stage that reads or writes a file the user keeps goes
through here, so a reader never sees half a file and a hash means the same thing everywhere.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib import resources
from pathlib import Path

#: The largest file pgperf reads as input (results, baselines, budgets): ~100 MiB. A results
#: file of the large profile is a few MiB; anything bigger is not one (e.g. /dev/zero).
MAX_INPUT_BYTES = 100 * 1024 * 1024


def file_hash(*paths: Path) -> str:
    """A short content hash of files (and of every file under folders, by relative path).

    Each file counts with its path relative to the folder it was found in (a file given
    alone: its name), so moving a query between features changes the hash; length prefixes
    keep ``name + content`` from running into each other. Where the folder is does not count.
    """
    digest = hashlib.sha256()
    entries: list[tuple[str, Path]] = []
    for path in paths:
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            entries += [(p.relative_to(path).as_posix(), p) for p in found]
        else:
            entries.append((path.name, path))
    for name, file in sorted(entries):
        for part in (name.encode(), file.read_bytes()):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()[:16]


def atomic_write(path: Path, data: bytes | str, *, mode: int = 0o644) -> int:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, never half.

    The bytes go to a temporary file in the target folder, are fsynced, get ``mode`` and are
    renamed over the target; the folder entry is fsynced too. Returns the bytes written.
    """
    payload = data.encode() if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            os.fchmod(tmp.fileno(), mode)  # mkstemp makes 0600; a report is for other readers
            tmp.write(payload)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return len(payload)


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder entry is on disk (no-op where unsupported).
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class InputTooLarge(OSError):
    """An input file is larger than pgperf reads (it cannot be what it claims to be)."""


def read_text_capped(path: Path, *, limit: int = MAX_INPUT_BYTES) -> str:
    """The file's UTF-8 text; an InputTooLarge when it holds more than ``limit`` bytes."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InputTooLarge(f"more than {limit:,} bytes")
    return data.decode("utf-8")


def engine_sql(package: str, name: str) -> str:
    """One of the engine's own SQL files: ``<package>/sql/<name>`` inside the installed pgperf."""
    return resources.files(package).joinpath("sql").joinpath(name).read_text(encoding="utf-8")


def display_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when it lies under it (reports travel between machines)."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
