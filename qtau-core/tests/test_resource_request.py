"""Pilot-Quantum's resource_config keys: accepted as Pilot-Quantum writes them, bad values named."""

from __future__ import annotations

import pytest
from qtau.errors import InvalidTaskError
from qtau.journal import task_summary
from qtau.types import QuantumTask

QASM = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; h q[0]; measure q[0] -> c[0];'


def test_pilot_quantum_resource_config_is_accepted_and_recorded():
    task = QuantumTask(circuit=QASM, resource_config={"num_qpus": 1, "num_gpus": 0, "memory": None})
    summary = task_summary(task)
    assert summary["resource_request"] == {"num_qpus": 1, "num_gpus": 0}
    task = QuantumTask(circuit=QASM, resource_config={"num_cpus": 0.5, "memory": 2 * 1024**3})
    assert task_summary(task)["resource_request"] == {"num_cpus": 0.5, "memory": 2 * 1024**3}


@pytest.mark.parametrize(("key", "value", "fix"), [
    ("num_qpus", 2, "split=True"),
    ("num_qpus", 0, "split=True"),
    ("num_gpus", -1, "num_gpus=1"),
    ("num_cpus", "two", "num_cpus=1"),
    ("memory", 1.5, "bytes"),
    ("num_gpus", True, "num_gpus=1"),
    ("num_cpus", float("nan"), "num_cpus=1"),
])
def test_values_that_cannot_be_honoured_are_named(key, value, fix):
    with pytest.raises(InvalidTaskError) as info:
        QuantumTask(circuit=QASM, resource_config={key: value})
    assert info.value.field == f"resource_config.{key}"
    assert fix in str(info.value)


def test_misspelled_request_key_gets_did_you_mean():
    with pytest.raises(InvalidTaskError, match="did you mean 'num_gpus'"):
        QuantumTask(circuit=QASM, resource_config={"num_gpu": 1})


def _service():
    from qtau.plugins import PluginHost
    from qtau.service import PilotComputeService

    plugins = PluginHost(strict=True)
    plugins.register_module("qiskit", "qtau_qiskit.plugin")
    pcs = PilotComputeService(plugins=plugins)
    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
    return pcs


def test_local_runs_a_task_with_a_request_it_can_meet():
    with _service() as pcs:
        task = QuantumTask(circuit=QASM, shots=9, resource_config={"num_qpus": 1, "num_gpus": 0,
                                                                   "num_cpus": 1, "memory": None})
        [result] = pcs.get_results([pcs.submit_quantum_task(task)])
        assert sum(result.counts.values()) == 9


@pytest.mark.parametrize(("key", "value"), [("num_cpus", 10_000), ("memory", 2**62)])
def test_local_refuses_what_this_machine_has_not(key, value):
    with _service() as pcs, pytest.raises(InvalidTaskError, match="cannot be honoured: this machine") as info:
        pcs.submit_quantum_task(QuantumTask(circuit=QASM, resource_config={key: value}))
    assert info.value.field == f"resource_config.{key}"


def test_local_refuses_a_gpu_when_none_is_visible(monkeypatch):
    """CUDA_VISIBLE_DEVICES="" hides every GPU, as on a machine without one."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with _service() as pcs, pytest.raises(InvalidTaskError, match="0 visible GPUs") as info:
        pcs.submit_quantum_task(QuantumTask(circuit=QASM, resource_config={"num_gpus": 1}))
    assert "num_gpus=0" in info.value.fix
