"""The PennyLane device `qtau.qubit`: measurements in PennyLane's shapes and wire order, gradients,
provenance, and a specific error for each kind of bad input. Real simulators throughout.

Statistical bounds: with N shots a probability's standard error is at most 0.5/sqrt(N); bounds
below are 5 standard errors or more, so a correct device fails them about once in a million runs.
"""

import math

import numpy as np
import pennylane as qml
import pytest
from pennylane.exceptions import DeviceError
from qtau import PilotComputeService, QtauError
from qtau.errors import ConfigurationError, InvalidTaskError, UnknownExecutorError
from qtau_pennylane.device import (
    AnalyticModeError,
    QtauQubitDevice,
    UnsupportedOperationError,
    WiresUnavailableError,
)

SHOTS = 4000
TOL = 5 * 0.5 / math.sqrt(SHOTS)  # ~0.04: 5 sigma of a probability; an expectation of +-1 values needs 2 x TOL


def test_registered_through_pennylane_entry_point():
    dev = qml.device("qtau.qubit", wires=2, shots=100)
    assert isinstance(dev, QtauQubitDevice) and dev.name == "qtau.qubit"
    assert "RX" in dev.capabilities.operations and "Toffoli" in dev.capabilities.operations


def test_default_executors_are_the_installed_local_simulators():
    from qtau import interop

    dev = qml.device("qtau.qubit", wires=2, shots=100)
    executors = {pilot.executor for pilot in dev.service.get_pilots()}
    assert executors == set(interop.installed_local_simulators())
    assert {"pennylane:lightning.qubit", "pennylane:default.qubit"} <= set(dev.service.quantum_resources)


def test_measurements_shapes_values_and_wire_order():
    dev = qml.device("qtau.qubit", wires=["a", "b", "c"], seed=3)

    @qml.set_shots(SHOTS)
    @qml.qnode(dev)
    def circuit(x):
        qml.RX(x, wires="a")
        qml.CNOT(wires=["a", "b"])
        qml.PauliX(wires="c")
        return (qml.expval(qml.Z("a")), qml.var(qml.Z("b")), qml.probs(wires=["c", "a"]),
                qml.counts(wires=["a", "c"]), qml.sample(wires=["b", "c"]))

    x = 0.9
    ev, var, probs, counts, sample = circuit(x)
    p1 = math.sin(x / 2) ** 2
    assert abs(ev - math.cos(x)) < 2 * TOL
    assert abs(var - (1 - math.cos(x) ** 2)) < 2 * TOL
    # probs over wires (c, a): c is always 1, so only |10> and |11> (c leftmost) occur.
    assert probs.shape == (4,) and probs[0] == probs[1] == 0
    assert abs(probs[3] - p1) < TOL
    assert set(counts) <= {"01", "11"} and sum(counts.values()) == SHOTS
    assert abs(counts.get("11", 0) / SHOTS - p1) < TOL
    assert sample.shape == (SHOTS, 2) and set(np.unique(sample[:, 1])) == {1}
    assert abs(sample[:, 0].mean() - p1) < TOL


def test_non_commuting_observables_and_hamiltonians():
    dev = qml.device("qtau.qubit", wires=2, seed=5)
    H = qml.Hamiltonian([0.5, -1.0], [qml.X(0) @ qml.X(1), qml.Z(0)])

    @qml.set_shots(SHOTS)
    @qml.qnode(dev)
    def circuit():
        qml.Hadamard(0)
        qml.CNOT([0, 1])
        return qml.expval(qml.X(0)), qml.expval(qml.Z(0) @ qml.Z(1)), qml.expval(H), qml.expval(qml.Y(0) @ qml.Y(1))

    x0, zz, h, yy = circuit()
    assert abs(x0) < 2 * TOL and abs(zz - 1) < 1e-9 and abs(h - 0.5) < 2 * TOL and abs(yy + 1) < 1e-9


def test_shot_vector_gives_one_result_per_bin():
    dev = qml.device("qtau.qubit", wires=1, seed=1)

    @qml.set_shots([(100, 2), 500])
    @qml.qnode(dev)
    def circuit():
        qml.PauliX(0)
        return qml.sample(wires=0), qml.expval(qml.Z(0))

    result = circuit()
    assert len(result) == 3
    assert [len(r[0]) for r in result] == [100, 100, 500]
    assert all(float(r[1]) == -1.0 for r in result)


def test_decomposes_operations_no_resource_runs_natively():
    dev = qml.device("qtau.qubit", wires=3, seed=2)
    U = qml.matrix(qml.RY(0.7, wires=0) @ qml.RZ(0.3, wires=0))

    @qml.set_shots(SHOTS)
    @qml.qnode(dev)
    def circuit():
        qml.QubitUnitary(U, wires=0)
        qml.MultiControlledX(wires=[0, 1, 2], control_values=[1, 0])
        qml.IsingXX(0.4, wires=[1, 2])
        return qml.probs(wires=[0, 2])

    expected = qml.QNode(circuit.func, qml.device("default.qubit", wires=3))()
    assert np.max(np.abs(circuit() - expected)) < TOL


def test_parameter_shift_gradient_matches_analytic():
    dev = qml.device("qtau.qubit", wires=2, seed=4)

    @qml.set_shots(SHOTS)
    @qml.qnode(dev, diff_method="parameter-shift")
    def circuit(a, b):
        qml.RX(a, 0)
        qml.RY(b, 1)
        qml.CNOT([0, 1])
        return qml.expval(qml.Z(1))

    a = qml.numpy.array(0.4, requires_grad=True)
    b = qml.numpy.array(-0.8, requires_grad=True)
    ga, gb = qml.grad(circuit)(a, b)
    # <Z1> = cos(a) cos(b)
    assert abs(ga + math.sin(0.4) * math.cos(-0.8)) < 3 * TOL
    assert abs(gb + math.cos(0.4) * math.sin(-0.8)) < 3 * TOL


def test_provenance_in_tracker_and_last_provenance():
    dev = qml.device("qtau.qubit", wires=2, executors=["pennylane_lightning"])

    @qml.set_shots(200)
    @qml.qnode(dev)
    def circuit():
        qml.Hadamard(0)
        return qml.expval(qml.Z(0)), qml.expval(qml.X(0))  # two tapes: Z0 and X0 do not commute

    with qml.Tracker(dev) as tracker:
        circuit()
    assert tracker.totals["executions"] == 2 and tracker.history["batches"] == [1]
    [first, _] = tracker.history["qtau"]
    assert first["resource"] == "pennylane:lightning.qubit" and first["executor"] == "pennylane_lightning"
    assert first["attempts"][0]["ok"] is True and first["cost"] == 0.0
    assert first["conversion_path"] == ["pennylane_tape"]
    assert dev.last_provenance[0]["task_id"] == first["task_id"]


def test_runs_on_a_given_service_with_its_mode():
    with PilotComputeService() as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "pennylane_default"}})
        dev = qml.device("qtau.qubit", wires=2, service=pcs, mode="low_cost")

        @qml.set_shots(500)
        @qml.qnode(dev)
        def circuit():
            qml.PauliX(1)
            return qml.probs(wires=[0, 1])

        assert list(circuit()) == [0.0, 1.0, 0.0, 0.0]
        assert dev.last_provenance[0]["resource"] == "pennylane:default.qubit"


# -- bad input ------------------------------------------------------------------------------------


def test_unknown_executor_is_named_with_the_known_ones():
    with pytest.raises(UnknownExecutorError) as err:
        qml.device("qtau.qubit", wires=2, shots=10, executors=["qiskit_locl"])
    assert "qiskit_locl" in str(err.value) and err.value.field == "executors"


def test_unknown_mode_and_service_with_executors():
    with pytest.raises(ConfigurationError, match="high_speed"):
        qml.device("qtau.qubit", wires=2, shots=10, mode="fastest")
    with PilotComputeService() as pcs, pytest.raises(ConfigurationError, match="either executors or service"):
        qml.device("qtau.qubit", wires=2, shots=10, service=pcs, executors=["qiskit_local"])


def test_wires_beyond_every_resource():
    """Refused at once with cutting off (or where qiskit-addon-cutting is not installed); with
    cutting on, such a device is made and its wide tapes are cut (tests/test_cutting.py)."""
    with pytest.raises(WiresUnavailableError) as err:
        qml.device("qtau.qubit", wires=200, shots=10, cutting=False)
    assert isinstance(err.value, QtauError) and isinstance(err.value, DeviceError)
    assert err.value.field == "wires" and "Fix:" in str(err.value)
    from qtau_pennylane.cut_tapes import can_cut

    if can_cut():
        assert qml.device("qtau.qubit", wires=200, shots=10).cutting == "auto"
    else:
        with pytest.raises(WiresUnavailableError) as err:
            qml.device("qtau.qubit", wires=200, shots=10)
        assert "qtau-core[cutting]" in err.value.fix


def test_analytic_mode_is_refused_before_anything_runs():
    dev = qml.device("qtau.qubit", wires=1)

    @qml.qnode(dev)
    def circuit():
        return qml.expval(qml.Z(0))

    with pytest.raises(AnalyticModeError) as err:
        circuit()
    assert isinstance(err.value, InvalidTaskError) and isinstance(err.value, DeviceError)
    assert err.value.field == "shots" and "set_shots" in str(err.value)


def test_operation_without_decomposition_is_refused():
    class Opaque(qml.operation.Operation):
        num_wires = 1

    dev = qml.device("qtau.qubit", wires=1)

    @qml.set_shots(10)
    @qml.qnode(dev)
    def circuit():
        Opaque(wires=0)
        return qml.expval(qml.Z(0))

    with pytest.raises(UnsupportedOperationError) as err:
        circuit()
    assert "Opaque" in str(err.value) and "not supported" in str(err.value)
    assert isinstance(err.value, QtauError) and isinstance(err.value, DeviceError)
