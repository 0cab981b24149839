"""Shot and memory limits of the qiskit_local resources (qtau.resource_limits): each Aer method
states how its memory grows, so a task that cannot fit is refused by QDREAMER, not by Aer's
`std::bad_alloc`, and a wide task on a method that fits it is not refused."""

import pytest
from qtau import resource_limits as limits
from qtau_qiskit.settings import resources


def aer(config):
    return next(r for r in resources(config) if r.metadata["backend"] == "aer_simulator")


@pytest.mark.parametrize(("method", "model"), [
    ("automatic", "statevector"), ("statevector", "statevector"), ("density_matrix", "density_matrix"),
    ("stabilizer", "stabilizer"), ("matrix_product_state", "unbounded"),
])
def test_each_aer_method_states_its_memory_model(method, model):
    res = aer({"method": method})
    assert res.metadata["memory_model"] == model and res.metadata["bytes_per_amplitude"] == 16
    assert res.metadata["max_shots"] == limits.LOCAL_MAX_SHOTS
    assert res.metadata["max_memory_bytes"] == limits.host_memory()[0]


def test_noise_makes_automatic_a_density_matrix():
    assert aer({"noise": {"depolarizing_1q": 0.01}}).metadata["memory_model"] == "density_matrix"


def test_single_precision_halves_the_state():
    res = aer({"method": "statevector", "backend_options": {"precision": "single"}})
    assert res.metadata["bytes_per_amplitude"] == 8
    assert limits.breaches({**res.metadata, "max_memory_bytes": 8 * 2**30}, 30, 10) == []
    assert limits.breaches({**aer({"method": "statevector"}).metadata, "max_memory_bytes": 8 * 2**30}, 30, 10)


def test_the_pilot_memory_replaces_the_hosts():
    res = aer({"method": "statevector", "memory": 2**30})
    assert res.metadata["max_memory_bytes"] == 2**30
    assert res.metadata["memory_source"] == "the pilot's memory setting"
    [breach] = limits.breaches(res.metadata, 27, 10)
    assert (breach.field, breach.value, breach.limit) == ("num_qubits", 27, 2**30)


@pytest.mark.parametrize("method", ["stabilizer", "matrix_product_state"])
def test_wide_circuits_on_mps_and_stabilizer_fit_a_small_memory(method):
    res = aer({"method": method, "memory": 2**30})
    assert limits.breaches(res.metadata, min(res.num_qubits, 100), 1000) == []


def test_basic_simulator_states_a_statevector():
    basic = next(r for r in resources({}) if r.metadata["backend"] == "basic_simulator")
    assert basic.metadata["memory_model"] == "statevector" and basic.metadata["max_shots"] == limits.LOCAL_MAX_SHOTS


def test_aer_on_a_gpu_states_the_gpus_memory(tmp_path, monkeypatch):
    """A stand-in `nvidia-smi` on PATH (no GPU here) prints what the real one prints for
    `--query-gpu=memory.total --format=csv,noheader,nounits`."""
    tool = tmp_path / "nvidia-smi"
    tool.write_text("#!/bin/sh\necho 40960\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    res = aer({"method": "statevector", "backend_options": {"device": "GPU"}})
    assert res.metadata["max_memory_bytes"] == 40 * 1024**3
    assert res.metadata["memory_source"] == "the GPU's memory (nvidia-smi)"
    assert aer({"method": "statevector"}).metadata["max_memory_bytes"] == limits.host_memory()[0]
