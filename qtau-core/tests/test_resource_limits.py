"""qtau.resource_limits alone (no plugin): the bytes each memory model needs, the breaches a task
makes of a resource's stated limits, and the memory this host has (physical, cgroup)."""

import os

from qtau import resource_limits as limits


def test_bytes_needed_per_method():
    assert limits.bytes_needed("statevector", 20) == 16 * 2**20
    assert limits.bytes_needed("statevector", 30, bytes_per_amplitude=8) == 8 * 2**30
    assert limits.bytes_needed("density_matrix", 13) == 16 * 4**13
    assert limits.bytes_needed("stabilizer", 1000) == 1000 * 1000
    assert limits.bytes_needed("statevector", 2, shots=10, bytes_per_sample=8) == 16 * 4 + 10 * 2 * 8
    assert limits.bytes_needed("unbounded", 100) is None and limits.bytes_needed(None, 100) is None


def test_breaches_name_field_value_limit_and_fix():
    meta = {"max_shots": 1000, "memory_model": "statevector", "max_memory_bytes": 2**30,
            "memory_source": "the pilot's memory setting"}
    assert limits.breaches(meta, 20, 1000) == []
    shots, memory = limits.breaches(meta, 27, 1001)
    assert (shots.field, shots.value, shots.limit) == ("shots", 1001, 1000) and "shots=1000" in shots.fix
    assert (memory.field, memory.value, memory.limit) == ("num_qubits", 27, 2**30)
    assert "2.0 GiB (2147483648 bytes)" in memory.reason and "1.0 GiB (1073741824 bytes)" in memory.reason
    assert "the pilot's memory setting" in memory.reason and "matrix_product_state" in memory.fix
    asked = limits.breaches(meta, 20, 10, memory_request=2**20)
    assert [(b.field, b.value) for b in asked] == [("resource_config.memory", 2**20)]
    assert str(16 * 2**20) in asked[0].fix
    # A width far past any memory is still a readable message.
    assert "about 2^1004 bytes" in limits.breaches(meta, 1000, 1)[0].reason


def test_cgroup_limit_is_read_from_the_process_cgroup_and_its_parents(tmp_path):
    """The layout under a fake cgroup root mirrors this process's own /proc/self/cgroup paths."""
    with open("/proc/self/cgroup") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            folder, name = tmp_path, "memory.max"
        elif "memory" in controllers.split(","):
            folder, name = tmp_path / "memory", "memory.limit_in_bytes"
        else:
            continue
        parts = [p for p in path.split("/") if p]
        own = folder.joinpath(*parts)
        own.mkdir(parents=True, exist_ok=True)
        (own / name).write_text("max\n" if name == "memory.max" else f"{2**63 - 4096}\n")
        (folder / name).write_text(f"{3 * 2**30}\n")
    assert limits.cgroup_memory_limit(str(tmp_path)) == 3 * 2**30
    assert limits.cgroup_memory_limit(str(tmp_path / "absent")) is None


def test_host_memory_is_the_smaller_of_physical_memory_and_the_cgroup_limit():
    have, source = limits.host_memory()
    physical, cgroup = limits.physical_memory(), limits.cgroup_memory_limit()
    assert have == min(x for x in (physical, cgroup) if x is not None)
    assert source.startswith("this host's")


def test_no_limit_reads_the_memory_of_a_remote_device():
    assert limits.remote_limits(100_000) == {"max_shots": 100_000} and limits.remote_limits(None) == {}
    assert limits.breaches({"max_shots": 100_000}, 34, 100_000) == []


def test_limits_module_imports_no_quantum_sdk():
    import subprocess
    import sys

    code = ("import sys, qtau.resource_limits; "
            "print([m for m in ('qiskit', 'pennylane', 'braket', 'cirq', 'ray') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True)
    assert out.stdout.strip() == "[]"


def test_the_refusal_names_a_limit_every_candidate_breaks():
    small = {"max_shots": 10_000_000, "memory_model": "statevector", "max_memory_bytes": 2**30}
    cloud = {"max_shots": 100_000}
    # 10**9 shots: every candidate breaks `shots`, the field the refusal names.
    assert limits.common_breach([small, cloud], 20, 10**9).field == "shots"
    # 27 qubits with few shots: the cloud device fits, so the refusal names no limit.
    assert limits.common_breach([small, cloud], 27, 100) is None
    assert limits.common_breach([small], 27, 100).field == "num_qubits"
    assert limits.common_breach([], 27, 100) is None


def test_gpu_memory_is_none_without_nvidia_smi(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert limits.gpu_memory() is None
    meta = limits.local_limits({}, limits.STATEVECTOR, gpu=True)
    assert "max_memory_bytes" not in meta and meta["max_shots"] == limits.LOCAL_MAX_SHOTS
