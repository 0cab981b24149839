"""Numbers computed with numpy are valid input wherever QTAU takes a number (`qtau.scalars`):
shots, widths, constraints, flags, resource requests, mitigation and cut settings, pilot settings,
QDREAMER's settings, budgets and timeouts. Qiskit, Aer, PennyLane and Braket take `np.int64`
shots; QTAU refused them as bad input. Each is checked with the value numpy gives, and a bad value
given as a numpy scalar is still refused with the same error as the Python number."""

from __future__ import annotations

import numpy as np
import pytest
from qtau import PilotComputeService, QuantumTask
from qtau.errors import ConfigurationError, InvalidTaskError, MitigationError
from qtau.scalars import plain
from qtau_test_circuits import bell


def test_plain_turns_numpy_scalars_into_pythons_own_and_leaves_the_rest():
    assert [type(plain(v)) for v in (np.int64(3), np.float32(0.5), np.bool_(True), np.uint8(1))] == [
        int, float, bool, int]
    for value in (3, 0.5, True, None, "x", [1], {"a": 1}, np.array([1, 2])):
        assert plain(value) is value


@pytest.mark.parametrize("settings", [
    {"shots": np.int64(1000)}, {"num_qubits": np.int32(2)}, {"max_cost": np.float32(2.5)},
    {"min_fidelity": np.float32(0.9)}, {"deadline": np.int64(60)}, {"timeout": np.float64(30)},
    {"split": np.bool_(False)}, {"resource_config": {"num_qpus": np.int64(1), "memory": np.int64(2**30)}},
    {"mitigation": {"technique": "zne", "twirls": np.int64(4), "seed": np.int64(7),
                    "scale_factors": np.array([1, 3, 5])}},
    {"cut": np.bool_(True)}, {"cut": {"max_width": np.int64(2), "gate_cuts": np.bool_(True), "seed": np.int64(3)}},
])
def test_a_task_takes_numpy_numbers(settings):
    task = QuantumTask(circuit=bell(), **settings)
    for name, value in settings.items():
        got = getattr(task, name)
        if isinstance(value, np.generic):
            assert got == value and type(got) in (int, float, bool), name


@pytest.mark.parametrize(("settings", "error"), [
    ({"shots": np.float64(1000)}, InvalidTaskError), ({"shots": np.int64(0)}, InvalidTaskError),
    ({"num_qubits": np.float32(2)}, InvalidTaskError), ({"min_fidelity": np.float64(1.5)}, InvalidTaskError),
    ({"split": np.int64(1)}, InvalidTaskError), ({"resource_config": {"num_qpus": np.int64(2)}}, InvalidTaskError),
    ({"mitigation": {"technique": "zne", "twirls": np.float64(4)}}, MitigationError),
    ({"cut": {"max_width": np.float64(2.5)}}, InvalidTaskError),
])
def test_bad_numpy_numbers_are_refused_as_the_same_python_numbers_are(settings, error):
    with pytest.raises(error) as found:
        QuantumTask(circuit=bell(), **settings)
    name = next(iter(settings))
    assert found.value.field.startswith(name) or found.value.field.startswith("mitigation.")


def test_a_service_takes_numpy_numbers_and_runs_the_task(qiskit_host):
    with PilotComputeService(plugins=qiskit_host) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {
            "executor": "qiskit_local", "max_qubits": np.int64(5), "memory": np.int64(2**31),
            "noise": {"depolarizing_1q": np.float64(0.0)}}})
        pcs.initialize_dreamer({"max_attempts": np.int64(2), "budget": {"USD": np.float64(5)},
                                "split": {"max_parts": np.int64(2)}})
        task = QuantumTask(circuit=bell(), shots=np.int64(200), num_qubits=np.int64(2))
        result = pcs.get_results([pcs.submit_quantum_task(task)], timeout=np.float64(60))[0]
        assert sum(result.counts.values()) == 200 and type(result.shots) is int
    with pytest.raises(ConfigurationError):
        with PilotComputeService(plugins=qiskit_host) as pcs:
            pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local",
                                                                       "max_qubits": np.float64(5)}})
