"""The local backend: a throwaway cluster made with the installed PostgreSQL's initdb."""

from __future__ import annotations

import ctypes
import fcntl
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pgperf.errors import BackendUnavailable, ServerStartError
from pgperf.provision.base import Availability, ServerHandle, read_server_facts
from pgperf.provision.readiness import wait_until_ready
from pgperf.provision.settings import server_options

SUPERUSER = "postgres"
_PR_SET_PDEATHSIG = 1
_STOP_GRACE_S = 30.0


@dataclass(frozen=True)
class Binaries:
    """An installed PostgreSQL: where its binaries are and which version they are."""

    bindir: Path
    version: str
    major: int

    def tool(self, name: str) -> str:
        """Absolute path of one of its programs."""
        return str(self.bindir / name)


def _version_of(bindir: Path) -> tuple[str, int] | None:
    postgres = bindir / "postgres"
    if not os.access(postgres, os.X_OK) or not os.access(bindir / "initdb", os.X_OK):
        return None
    out = subprocess.run(
        [str(postgres), "--version"], capture_output=True, text=True, check=False, timeout=10
    ).stdout
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not match:
        return None
    return out.strip().rsplit(") ", 1)[-1], int(match.group(1))


def _candidate_bindirs(explicit: Path | None) -> list[Path]:
    if explicit is not None:
        return [explicit]
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False, timeout=10
        )
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))

    def major_of(path: Path) -> int:
        name = path.parent.name
        return int(name) if name.isdigit() else 0

    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=major_of, reverse=True)
    return candidates + debian


def find_binaries(explicit: Path | None = None) -> Binaries | None:
    """The PostgreSQL to use: an explicit bindir, PATH, pg_config, then newest Debian major."""
    for bindir in _candidate_bindirs(explicit):
        found = _version_of(bindir)
        if found:
            return Binaries(bindir, found[0], found[1])
    return None


@dataclass(frozen=True)
class OsUser:
    """The account the server runs as: never root, which initdb refuses."""

    name: str
    uid: int
    gid: int

    @property
    def switch(self) -> bool:
        """Whether the server must run as a different account than this process."""
        return self.uid != os.geteuid()


def server_os_user() -> OsUser:
    """This process's account, or the unprivileged ``postgres`` account when running as root."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return OsUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise BackendUnavailable(
            "running as root, and there is no unprivileged 'postgres' account to run the server",
            hint="create one (useradd --system postgres) or install PostgreSQL from apt, "
            "which creates it",
        ) from exc
    return OsUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


TEMP_PREFIX = "pgperf-local-"
OWNER_FILE = "owner.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphan_temp_dirs() -> list[Path]:
    """Remove throwaway cluster dirs whose owning process died without cleaning up (kill -9)."""
    removed: list[Path] = []
    for root in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        try:
            pid = int((root / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if not _alive(pid):
            shutil.rmtree(root, ignore_errors=True)
            removed.append(root)
    return removed


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # If this process is killed outright, the postmaster gets SIGINT (fast shutdown) from the
    # kernel instead of outliving it: no orphan server even after `kill -9`.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


class LocalBackend:
    """initdb + postgres of an installed PostgreSQL, on 127.0.0.1 and a free port."""

    name = "local"

    def __init__(
        self,
        *,
        bindir: Path | None = None,
        cache_dir: Path | None = None,
        startup_timeout_s: float = 60.0,
    ) -> None:
        self._explicit_bindir = bindir
        self._cache_dir = cache_dir
        self._timeout = startup_timeout_s

    def availability(self) -> Availability:
        """Say which PostgreSQL binaries were found, and whether they can run here."""
        binaries = find_binaries(self._explicit_bindir)
        if binaries is None:
            where = self._explicit_bindir or "PATH, pg_config --bindir, /usr/lib/postgresql/*/bin"
            return Availability(
                self.name,
                usable=False,
                detail=f"no PostgreSQL server binaries (initdb, postgres) found in {where}",
                hint="apt-get install -y postgresql (or set PGPERF_PG_BINDIR)",
            )
        try:
            user = server_os_user()
        except BackendUnavailable as exc:
            return Availability(self.name, usable=False, detail=exc.message, hint=exc.hint or "")
        return Availability(
            self.name,
            usable=True,
            detail=f"PostgreSQL {binaries.version} in {binaries.bindir}, runs as {user.name!r}",
        )

    @contextmanager
    def start(self) -> Iterator[ServerHandle]:
        """Start a cluster; stop it and remove its temp dir however the block is left."""
        binaries = find_binaries(self._explicit_bindir)
        if binaries is None:
            raise BackendUnavailable(
                "the local backend found no PostgreSQL server binaries",
                hint="apt-get install -y postgresql, or set PGPERF_PG_BINDIR",
            )
        user = server_os_user()
        with (
            self._data_dir(binaries, user) as (data_dir, persistent),
            _Cluster(binaries, user, data_dir, self._timeout) as conninfo,
        ):
            version, major, settings = read_server_facts(conninfo)
            yield ServerHandle(self.name, conninfo, version, major, settings, persistent)

    @contextmanager
    def _data_dir(self, binaries: Binaries, user: OsUser) -> Iterator[tuple[Path, bool]]:
        cached = self._lock_cache(binaries, user)
        if cached is not None:
            lock, data_dir = cached
            try:
                yield data_dir, True
            finally:
                lock.close()
            return
        remove_orphan_temp_dirs()
        root = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
        (root / OWNER_FILE).write_text(str(os.getpid()))
        try:
            if user.switch:
                os.chown(root, user.uid, user.gid)
            yield root / "data", False
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _lock_cache(self, binaries: Binaries, user: OsUser) -> tuple[IO[str], Path] | None:
        """The persistent cluster of this major, locked for this run; None if busy or unset."""
        if self._cache_dir is None:
            return None
        try:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            lock = (self._cache_dir / f"pg{binaries.major}.lock").open("w")
        except OSError:
            return None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            # Another run holds the cached cluster: this run takes a throwaway one.
            lock.close()
            return None
        data_dir = self._cache_dir / f"pg{binaries.major}"
        if data_dir.exists() and not (data_dir / "PG_VERSION").exists():
            shutil.rmtree(data_dir, ignore_errors=True)  # a half-made cluster from a crash
        if not data_dir.exists():
            data_dir.mkdir(mode=0o700)
            if user.switch:
                os.chown(data_dir, user.uid, user.gid)
        return lock, data_dir


class _Cluster:
    """One postgres process on a data dir: initdb if needed, start, wait, stop."""

    def __init__(self, binaries: Binaries, user: OsUser, data_dir: Path, timeout_s: float) -> None:
        self.binaries = binaries
        self.user = user
        self.data_dir = data_dir
        self.timeout_s = timeout_s
        self.log_path = data_dir.parent / f"{data_dir.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _run_as_server_user(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.data_dir.parent,
            user=self.user.uid if self.user.switch else None,
            group=self.user.gid if self.user.switch else None,
            extra_groups=[] if self.user.switch else None,
        )

    def _initdb(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        done = self._run_as_server_user(
            [
                self.binaries.tool("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",  # loopback only, throwaway cluster
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        if done.returncode != 0:
            raise ServerStartError(
                f"initdb failed for {self.data_dir} (exit {done.returncode}):\n"
                f"{(done.stderr or done.stdout).strip()[-2000:]}",
                hint=f"check that user {self.user.name!r} can write {self.data_dir.parent}",
            )

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def _spawn(self, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
        args = [
            self.binaries.tool("postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",  # TCP only: no clash with a system server
            *server_options(),
        ]
        # A new session: a terminal's Ctrl-C reaches this process, which then stops the
        # server in order, rather than the server dying half-way on its own.
        return subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.data_dir.parent,
            start_new_session=True,
            user=self.user.uid if self.user.switch else None,
            group=self.user.gid if self.user.switch else None,
            extra_groups=[] if self.user.switch else None,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - sets only the parent-death signal
        )

    def __enter__(self) -> str:
        self._initdb()
        port = free_port()
        with self.log_path.open("wb") as log:
            self.process = self._spawn(port, log)
        conninfo = f"host=127.0.0.1 port={port} user={SUPERUSER} dbname=postgres"
        process = self.process
        try:
            wait_until_ready(
                conninfo,
                timeout_s=self.timeout_s,
                describe=f"local PostgreSQL {self.binaries.version} on port {port}",
                log_tail=self.log_tail,
                still_running=lambda: process.poll() is None,
            )
        except BaseException:
            self.stop()
            raise
        return conninfo

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, grace in ((signal.SIGINT, _STOP_GRACE_S), (signal.SIGQUIT, 10.0)):
            with suppress(ProcessLookupError):
                process.send_signal(sig)
            try:
                process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue
        process.kill()
        process.wait()
