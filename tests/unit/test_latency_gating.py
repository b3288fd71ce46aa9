"""When a stored baseline's latency may gate: the same machine, and the same boot of it."""

from __future__ import annotations

from pathlib import Path

from pgperf.host import MachineInfo, machine_info
from pgperf.verdict.record import PostgresInfo, RunMetadata
from pgperf.verdict.verdict import latency_not_gating


def _meta(machine: MachineInfo) -> RunMetadata:
    return RunMetadata("ci", 42, PostgresInfo("15.18", 15), machine, backend="local")


def _machine(*, instance: str, cpu: str = "AMD EPYC") -> MachineInfo:
    return MachineInfo("f" * 16, cpu, 2, 24, instance=instance)


def test_the_same_boot_of_the_same_machine_gates() -> None:
    here = _machine(instance="boot-1")
    assert latency_not_gating(_meta(here), _meta(here)) is None


def test_another_vm_of_the_same_type_is_information_only() -> None:
    # Hosted runners of one type have the same CPU string, cores and memory: not one speed.
    note = latency_not_gating(
        _meta(_machine(instance="boot-1")), _meta(_machine(instance="boot-2"))
    )
    assert note is not None
    assert "another boot or VM of the same machine type" in note
    assert "`pgperf ab`" in note


def test_a_baseline_that_does_not_say_its_instance_is_information_only() -> None:
    note = latency_not_gating(_meta(_machine(instance="")), _meta(_machine(instance="boot-2")))
    assert note is not None
    assert "instance differs" in note


def test_two_files_that_both_predate_instances_compare_by_fingerprint() -> None:
    old = _machine(instance="")
    assert latency_not_gating(_meta(old), _meta(old)) is None


def test_this_machine_reports_its_boot(tmp_path: Path) -> None:
    found = machine_info()
    assert found.instance == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
