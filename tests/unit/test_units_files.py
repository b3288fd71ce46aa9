"""pgperf.files: atomic writes that never leave half a file, capped reads, display paths,
content hashes (pure, no database)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pgperf.files import (
    MAX_INPUT_BYTES,
    InputTooLarge,
    atomic_write,
    display_path,
    file_hash,
    read_text_capped,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_replaces_the_file_and_returns_the_bytes_written(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "results.json"  # the folder is made if missing
    assert atomic_write(target, "caf\u00e9") == 5  # bytes, not characters
    assert target.read_text() == "caf\u00e9"
    assert atomic_write(target, b"\x00\x01") == 2
    assert target.read_bytes() == b"\x00\x01"
    assert _leftovers(target.parent) == []


def test_atomic_write_sets_the_mode_asked(tmp_path: Path) -> None:
    target = tmp_path / "baseline.json"
    atomic_write(target, "{}")
    assert _mode(target) == 0o644  # readable by others (mkstemp alone would give 0600)
    atomic_write(target, "{}", mode=0o600)
    assert _mode(target) == 0o600  # an existing file gets the new mode too
    atomic_write(target, "{}", mode=0o640)
    assert _mode(target) == 0o640


def test_a_failed_write_onto_a_directory_leaves_it_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.mkdir()
    (target / "inside").write_text("old")
    with pytest.raises(IsADirectoryError, match=r"results\.json"):
        atomic_write(target, "new")
    assert target.is_dir()
    assert (target / "inside").read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_a_write_failing_midway_keeps_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    atomic_write(target, "old")
    with pytest.raises(TypeError):
        atomic_write(target, 42)  # type: ignore[arg-type]  # fails inside the temporary file
    with pytest.raises(UnicodeEncodeError):
        atomic_write(target, "\ud800")  # a lone surrogate cannot be UTF-8
    assert target.read_text() == "old"
    assert _mode(target) == 0o644
    assert _leftovers(tmp_path) == []


def test_read_text_capped_reads_up_to_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_bytes(b"x" * 10)
    assert read_text_capped(path, limit=10) == "x" * 10
    with pytest.raises(InputTooLarge):
        read_text_capped(path, limit=9)
    assert issubclass(InputTooLarge, OSError)  # callers handle it with the other OS errors
    path.write_text("\u00e9")
    assert read_text_capped(path) == "\u00e9"


def test_read_text_capped_refuses_an_endless_file_without_reading_it_all() -> None:
    with pytest.raises(InputTooLarge, match="more than 104,857,600 bytes"):
        read_text_capped(Path("/dev/zero"))
    assert MAX_INPUT_BYTES == 100 * 1024 * 1024


def test_display_path_is_relative_under_the_root(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "reports").mkdir(parents=True)
    assert display_path(root / "reports" / "results.json", root) == "reports/results.json"
    assert display_path(root / "sql" / ".." / "reports" / "r.json", root) == "reports/r.json"
    assert display_path(root, root) == "."
    outside = tmp_path / "elsewhere" / "r.json"
    assert display_path(outside, root) == str(outside)
    (tmp_path / "link").symlink_to(root)
    assert display_path(tmp_path / "link" / "reports" / "r.json", root) == "reports/r.json"


def test_file_hash_covers_content_and_names_in_any_order(tmp_path: Path) -> None:
    folder = tmp_path / "q"
    (folder / "feat").mkdir(parents=True)
    (folder / "feat" / "a.sql").write_text("SELECT 1")
    (folder / "feat" / "b.sql").write_text("SELECT 2")
    budgets = tmp_path / "budgets.toml"
    budgets.write_text("[budgets]\n")
    first = file_hash(folder, budgets)
    assert len(first) == 16
    assert file_hash(budgets, folder) == first
    (folder / "feat" / "__pycache__").mkdir()
    (folder / "feat" / "__pycache__" / "x.pyc").write_bytes(b"\x00")
    assert file_hash(folder, budgets) == first  # byte code is not content
    (folder / "feat" / "b.sql").write_text("SELECT 3")
    assert file_hash(folder, budgets) != first
    (folder / "feat" / "b.sql").write_text("SELECT 2")
    (folder / "feat" / "b.sql").rename(folder / "feat" / "c.sql")
    assert file_hash(folder, budgets) != first
