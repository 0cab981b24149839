"""QNodes, bound QNodes and tapes on real PennyLane devices: values, counts, shots, batches."""

from __future__ import annotations

import numpy as np
import pennylane as qml
import pytest
from pennylane_test_circuits import bell_counts, bell_expvals, x0_counts
from qtau import InvalidTaskError, QuantumTask
from qtau_pennylane import bind

from conftest import run

LOCAL = ("pennylane_default", "pennylane_lightning", "pennylane_qiskit", "pennylane_braket")


@pytest.mark.parametrize("executor", LOCAL)
def test_expval_qnode_values_and_empty_counts(services, executor):
    result = run(services(executor), bell_expvals())
    assert isinstance(result.values, tuple) and len(result.values) == 2
    assert all(isinstance(v, np.floating) for v in result.values)
    assert np.allclose(result.values, (0.0, 0.0), atol=0.15)
    assert result.counts == {}
    assert result.resource_id.startswith("pennylane:")


def test_expval_only_qnode_runs_analytically_where_it_can(services):
    result = run(services("pennylane_lightning"), bell_expvals(), shots=10)
    assert result.values == (0.0, 0.0)
    assert result.metadata["analytic"] is True and result.metadata["shots"] is None


def test_qnode_with_shots_is_sampled_with_the_task_shots(services):
    qnode = qml.set_shots(bell_expvals(), shots=5)
    result = run(services("pennylane_default"), qnode, shots=200)
    assert result.metadata["analytic"] is False and result.metadata["shots"] == 200
    # Sampled <Z> of a Bell pair: both qubits always agree, so the two estimates are equal.
    assert result.values[0] == result.values[1]


def test_sampling_only_device_samples_an_expval_qnode(services):
    result = run(services("pennylane_qiskit", device="qiskit.basicsim"), bell_expvals(), shots=300)
    assert result.metadata["analytic"] is False and result.metadata["shots"] == 300


def test_mixed_measurements_keep_their_shapes(services):
    @qml.qnode(qml.device("default.qubit", wires=2))
    def circuit():
        qml.PauliX(1)
        return qml.expval(qml.PauliZ(0)), qml.probs(wires=[0, 1]), qml.counts(wires=[0, 1])

    result = run(services("pennylane_lightning"), circuit, shots=50)
    expval, probs, counts = result.values
    assert expval == 1.0
    # probs stay in PennyLane's order (wire 0 most significant): |01> is index 1.
    assert probs.shape == (4,) and probs[1] == 1.0
    assert counts == {"01": 50}
    # QTAU's counts put wire 0 on the right.
    assert result.get_counts() == {"10": 50}


def test_samples_become_common_order_counts(services):
    @qml.qnode(qml.device("default.qubit", wires=3))
    def circuit():
        qml.PauliX(0)
        return qml.sample()

    result = run(services("pennylane_default"), circuit, shots=20)
    assert result.get_counts() == {"001": 20}
    assert result.values.shape == (20, 3) and result.values.dtype == float


def test_custom_wire_labels(services):
    @qml.qnode(qml.device("default.qubit", wires=["a", "b"]))
    def circuit():
        qml.PauliX("a")
        return qml.counts()

    assert run(services("pennylane_braket"), circuit, shots=30).get_counts() == {"01": 30}


def test_bound_qnode_builds_its_tape_with_the_arguments(services):
    @qml.qnode(qml.device("default.qubit", wires=1))
    def rotated(theta, scale=1.0):
        qml.RX(theta * scale, wires=0)
        return qml.expval(qml.PauliZ(0))

    result = run(services("pennylane_lightning"), bind(rotated, np.pi / 3, scale=2.0))
    assert np.isclose(result.values, np.cos(2 * np.pi / 3))


def test_bare_qnode_gets_the_task_args(services):
    @qml.qnode(qml.device("default.qubit", wires=1))
    def rotated(theta, scale=1.0):
        qml.RX(theta * scale, wires=0)
        return qml.expval(qml.PauliZ(0))

    result = run(services("pennylane_default"), rotated, args=(np.pi / 3,), kwargs={"scale": 2.0},
                 num_qubits=1, gate_set=["rx"])
    assert np.isclose(result.values, np.cos(2 * np.pi / 3))


def test_function_returning_a_qnode_gets_the_task_args(services):
    def make(theta):
        @qml.qnode(qml.device("default.qubit", wires=1))
        def circuit():
            qml.RY(theta, wires=0)
            return qml.expval(qml.PauliZ(0))

        return circuit

    result = run(services("pennylane_default"), make, args=(np.pi,), num_qubits=1, gate_set=["ry"])
    assert np.isclose(result.values, -1.0)


def test_qnode_missing_its_arguments_says_how_to_bind(services):
    @qml.qnode(qml.device("default.qubit", wires=1))
    def needs(theta):
        qml.RX(theta, wires=0)
        return qml.expval(qml.PauliZ(0))

    pcs = services("pennylane_default")
    with pytest.raises(InvalidTaskError, match="bind"):
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=needs)), timeout=60)


def test_batch_is_one_execute_call(services, monkeypatch):
    from qtau.payloads import BatchPayload, Placement, TaskPayload
    from qtau.worker import run_batch

    pcs = services("pennylane_lightning")
    calls = []
    real = qml.execute

    def counting(tapes, device, *args, **kwargs):
        calls.append(len(tapes))
        return real(tapes, device, *args, **kwargs)

    monkeypatch.setattr(qml, "execute", counting)
    [resource] = pcs.quantum_resources.values()
    tasks = tuple(QuantumTask(circuit=c, shots=100) for c in (x0_counts(), bell_expvals(), x0_counts()))
    placement = Placement(resource, {"executor": "pennylane_lightning"})
    results = run_batch(BatchPayload(tuple(TaskPayload(pcs.host.spec(), t, (placement,), 0.0) for t in tasks)))
    # Three jobs of two widths, one backend call.
    assert calls == [3]
    assert [r.get_counts() for r in (results[0], results[2])] == [{"001": 100}, {"001": 100}]
    assert results[1].values == (0.0, 0.0)


@pytest.mark.parametrize("executor", ["pennylane_default", "pennylane_lightning"])
def test_a_seeded_call_repeats_its_counts(services, executor):
    """On a seeded pilot each backend call starts from the seed: the same call gives the same
    counts however many ran before it (a device kept between calls would go on drawing)."""
    from qtau.payloads import BatchPayload, Placement, TaskPayload
    from qtau.worker import run_batch

    pcs = services(executor, seed=11)
    [resource] = pcs.quantum_resources.values()
    placement = Placement(resource, {"executor": executor, "seed": 11})

    def batch():
        tasks = tuple(QuantumTask(circuit=bell_counts(), shots=200) for _ in range(2))
        return [r.get_counts() for r in
                run_batch(BatchPayload(tuple(TaskPayload(pcs.host.spec(), t, (placement,), 0.0) for t in tasks)))]

    first = batch()
    assert all(set(c) == {"00", "11"} and 60 < c["00"] < 140 for c in first)  # real samples
    assert batch() == first and batch() == first


def test_state_job_runs_on_its_own_width_beside_a_batch(services):
    from qtau.payloads import BatchPayload, Placement, TaskPayload
    from qtau.worker import run_batch

    @qml.qnode(qml.device("default.qubit", wires=1))
    def plus():
        qml.Hadamard(0)
        return qml.state()

    pcs = services("pennylane_default")
    [resource] = pcs.quantum_resources.values()
    tasks = (QuantumTask(circuit=plus), QuantumTask(circuit=x0_counts(), shots=10))
    state, x0 = run_batch(BatchPayload(tuple(TaskPayload(pcs.host.spec(), t, (Placement(resource, {}),), 0.0)
                                             for t in tasks)))
    assert np.allclose(state.values, [2 ** -0.5, 2 ** -0.5])
    assert x0.get_counts() == {"001": 10}


def test_noise_reaches_default_mixed(services):
    pcs = services("pennylane_default", noise={"depolarizing_1q": 0.2, "readout": 0.1})
    result = run(pcs, x0_counts(), shots=2000)
    counts = result.get_counts()
    assert max(counts, key=counts.get) == "001" and len(counts) > 1
    assert result.resource_id == "pennylane:default.mixed"
    assert result.metadata["noise"]["readout"] == 0.1
