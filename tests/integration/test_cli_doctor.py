"""`pgperf doctor` reports every backend and exits 0 when one is usable."""

from __future__ import annotations

import pytest

from pgperf.commands.cli import main

pytestmark = pytest.mark.integration


def test_doctor_lists_every_backend(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGPERF_DSN", raising=False)
    code = main(["doctor"])
    out = capsys.readouterr().out
    for name in ("docker", "local", "dsn"):
        assert f" {name}" in out
    assert "PostgreSQL" in out  # the local backend names the version it found
    assert code == 0


def test_doctor_fails_when_nothing_is_usable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("PGPERF_PG_BINDIR", "/nonexistent/bin")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.delenv("PGPERF_DSN", raising=False)
    code = main(["doctor"])
    out = capsys.readouterr().out
    assert code == 1
    assert "apt-get install -y postgresql" in out
    assert "No backend is usable" in out
