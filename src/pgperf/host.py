"""The machine a run measures on: CPU model and size, CPU pressure, process CPU, git commit.

Pure: reads /proc and asks git (the commit, and when it was made), never a database.

CPU pressure (Linux PSI) is the share of a stretch of time some task waited for a CPU. A
benchmark alone on the machine keeps it near 0: the client and its server backend take
turns (one statement at a time), so neither waits for a core. Other work on the machine
(another test run, a load sweep) makes runnable tasks queue for the cores, and timings then
move by far more than any code change. The verdict uses it to tell "the machine was busy"
from "the code got slower".
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

#: Linux >= 4.20 with PSI enabled; absent elsewhere (then pressure is unknown, never 0).
PSI_CPU = Path("/proc/pressure/cpu")
#: Linux's id of the current boot: differs on a new VM of the same type, and after a reboot.
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class MachineInfo:
    """The machine a run was measured on; ``fingerprint`` is stable across its runs."""

    fingerprint: str
    cpu: str
    cores: int
    memory_gb: int
    os: str = ""
    python: str = ""
    # This boot of this machine: a new VM of the same type, or a reboot, has another one.
    instance: str = ""

    @property
    def described(self) -> str:
        """One line for a report: CPU, cores, memory."""
        return f"{self.cpu or '?'}, {self.cores} cores, {self.memory_gb} GB"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cores() -> int:
    """The CPUs this process may run on (a container's cpuset), not the host's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _memory_gb() -> int:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError, AttributeError):
        return 0


def machine_info() -> MachineInfo:
    """Describe this machine; the fingerprint hashes what changes timings, not the hostname."""
    cpu, count, memory = _cpu_model(), cores(), _memory_gb()
    python = platform.python_version()
    # Kernel release and Python patch level are left out: they change on routine updates,
    # and a fingerprint that moves would silently turn every latency check into information.
    stable = "|".join(
        [cpu, str(count), str(memory), platform.system(), platform.machine(), python[:4]]
    )
    return MachineInfo(
        fingerprint=hashlib.sha256(stable.encode()).hexdigest()[:16],
        cpu=cpu,
        cores=count,
        memory_gb=memory,
        os=f"{platform.system()} {platform.release()} {platform.machine()}",
        python=python,
        instance=_boot_id(),
    )


def _boot_id() -> str:
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return ""


def git_commit(project_root: Path) -> str | None:
    """The checked-out commit of the project (``+dirty`` when files changed), or None."""
    try:
        head = _git(project_root, "rev-parse", "HEAD")
        dirty = _git(project_root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if dirty else head


def commit_time(project_root: Path, commit: str) -> datetime | None:
    """When ``commit`` was committed, by the project's git; None when git does not know it."""
    sha = commit.removesuffix("+dirty")
    if not sha or not all(c in "0123456789abcdef" for c in sha.lower()):
        return None  # never hand git an option or a revision expression from a file
    try:
        stamp = _git(project_root, "show", "-s", "--format=%cI", f"{sha}^{{commit}}")
    except (OSError, subprocess.SubprocessError):
        return None
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=10
    )
    return done.stdout.strip()


# --------------------------------------------------------------------------- CPU


def cpu_stall_us(path: Path = PSI_CPU) -> int | None:
    """Microseconds since boot during which some task waited for a CPU, or None if unknown."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("some "):
            fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            total = fields.get("total", "")
            return int(total) if total.isdigit() else None
    return None


@dataclass
class Pressure:
    """The CPU pressure of one measured stretch; ``share`` is None until it ends or if unknown."""

    share: float | None = None


@contextmanager
def pressure_over(path: Path = PSI_CPU) -> Iterator[Pressure]:
    """Measure the CPU pressure over the block: the share of its wall time some task waited."""
    reading = Pressure()
    before, start = cpu_stall_us(path), time.monotonic()
    try:
        yield reading
    finally:  # a failed benchmark's timings are in the results too, and so is its pressure
        after, wall_us = cpu_stall_us(path), (time.monotonic() - start) * 1e6
        if before is not None and after is not None and wall_us > 0:
            reading.share = min(1.0, max(0.0, (after - before) / wall_us))


def process_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) of a local postgres process, None if not visible here."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name, _, rest = stat.partition(") ")
    # A pid from a server in another namespace (docker) may name an unrelated process here.
    if not name.split("(", 1)[-1].startswith("postgres"):
        return None
    fields = rest.split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def machine_busy_ticks() -> tuple[int, int] | None:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(v) for v in first[:8]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return sum(ticks) - idle, sum(ticks)
