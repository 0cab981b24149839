"""`qtau.qubit` on the measurements PennyLane's own transforms cannot hand a sampling device:
the variance of a sum, postselected mid-circuit measurements, classical shadows (refused), and
state snapshots (refused with their own message). Values are compared with default.qubit's
analytic ones on real simulators.

Statistical bounds: a variance estimated from N shots has standard error sqrt((m4 - m2**2) / N),
with m2 and m4 the central moments of the observable's spectral distribution in the circuit's
state (computed exactly below); an expectation value of +-1 outcomes has at most 1 / sqrt(N);
bounds are 5 standard errors, so a correct device fails one about once in a million runs.
"""

import math
import warnings

import numpy as np
import pennylane as qml
import pytest
from pennylane.exceptions import DeviceError
from qtau import QtauError
from qtau_pennylane.device import AnalyticModeError, QtauDeviceError, UnsupportedMeasurementError
from qtau_pennylane.measurement_rewrites import EIGENBASIS_MAX_WIRES, variance_of_sums

SHOTS = 4000


def prepare(wires: int) -> None:
    qml.RX(0.6, 0)
    qml.RY(0.7, 1)
    qml.CNOT([0, 1])
    for w in range(2, wires):
        qml.RY(0.3 * w, w)
        qml.CNOT([w - 1, w])


def exact_variance_and_error(obs, wires: int, shots: int) -> tuple[float, float]:
    """default.qubit's analytic variance of `obs` after `prepare`, and the standard error of a
    variance estimated from `shots` samples of the observable's spectral distribution."""
    ref = qml.device("default.qubit", wires=wires)

    @qml.qnode(ref)
    def state():
        prepare(wires)
        return qml.state()

    @qml.qnode(ref)
    def variance():
        prepare(wires)
        return qml.var(obs)

    matrix = qml.matrix(obs, wire_order=range(wires))
    eigvals, eigvecs = np.linalg.eigh(matrix)
    p = np.abs(eigvecs.conj().T @ state()) ** 2
    mean = p @ eigvals
    m2, m4 = p @ (eigvals - mean) ** 2, p @ (eigvals - mean) ** 4
    exact = float(variance())
    assert abs(exact - m2) < 1e-9
    return exact, math.sqrt(max(m4 - m2**2, 0.0) / shots)


SUMS = {
    "X0 + X1 (qubit-wise commuting)": lambda: qml.X(0) + qml.X(1),
    "Z0 + I (a constant term)": lambda: qml.Z(0) + qml.I(),
    "X0 X1 + 0.5 Y0 Y1 (commuting, not qubit-wise)": lambda: qml.X(0) @ qml.X(1) + 0.5 * qml.Y(0) @ qml.Y(1),
    "Hamiltonian(Z0, X0) (non-commuting)": lambda: qml.Hamiltonian([1.0, 0.5], [qml.Z(0), qml.X(0)]),
    "X0 Y2 + 0.3 Y2 - Z1 + 2 I (three wires)": lambda: qml.X(0) @ qml.Y(2) + 0.3 * qml.Y(2) - qml.Z(1) + 2 * qml.I(),
    "Hermitian + X1": lambda: qml.Hermitian(np.array([[1.0, 0.5], [0.5, -1.0]]), wires=0) + qml.X(1),
}


@pytest.mark.parametrize("name", list(SUMS))
def test_variance_of_a_sum_matches_default_qubit(name):
    obs = SUMS[name]()
    dev = qml.device("qtau.qubit", wires=3, seed=11)

    @qml.set_shots(SHOTS)
    @qml.qnode(dev)
    def circuit():
        prepare(3)
        return qml.var(SUMS[name]())

    exact, error = exact_variance_and_error(obs, 3, SHOTS)
    assert abs(float(circuit()) - exact) < 5 * error + 1e-9, (name, exact, error)


def test_variances_of_sums_beside_other_measurements_and_with_a_shot_vector():
    dev = qml.device("qtau.qubit", wires=2, seed=12)
    qwc = qml.X(0) + qml.Y(1)
    non_commuting = qml.Hamiltonian([1.0, 0.5], [qml.Z(0), qml.X(0)])

    def body():
        prepare(2)
        return qml.expval(qml.Z(0)), qml.var(qwc), qml.probs(wires=[0, 1]), qml.var(non_commuting)

    ours = qml.set_shots(qml.QNode(body, dev), [SHOTS, (SHOTS, 2)])()
    exact = qml.QNode(body, qml.device("default.qubit", wires=2))()
    assert len(ours) == 3
    errors = [1 / math.sqrt(SHOTS), exact_variance_and_error(qwc, 2, SHOTS)[1], 0.5 / math.sqrt(SHOTS),
              exact_variance_and_error(non_commuting, 2, SHOTS)[1]]
    for part in ours:
        assert len(part) == 4 and np.shape(part[2]) == (4,)
        for value, reference, error in zip(part, exact, errors, strict=True):
            assert np.max(np.abs(np.asarray(value) - reference)) < 5 * error


def test_a_qubit_wise_commuting_sum_is_read_shot_by_shot_in_one_product_basis():
    """No matrix for a qubit-wise commuting sum: the wires are rotated (X -> H) and the rotated
    Z words are evaluated per shot, so it works at any width; the other measurements keep a tape."""
    tape = qml.tape.QuantumScript([qml.RX(0.2, 0)], [qml.expval(qml.Z(0)), qml.var(qml.X(0) + 2 * qml.Y(1))],
                                  shots=100)
    (rest, rotated), _ = variance_of_sums(tape)
    assert rest.measurements == [qml.expval(qml.Z(0))]
    assert not any(op.name == "QubitUnitary" for op in rotated.operations)
    assert [op.name for op in rotated.operations][1:] == ["Hadamard", "PauliZ", "S", "Hadamard"]
    [m] = rotated.measurements
    assert all(set(word.values()) == {"Z"} for word in m.obs.pauli_rep)

    wide = 8
    dev = qml.device("qtau.qubit", wires=wide, seed=13)
    obs = qml.sum(*[qml.X(w) for w in range(wide)])

    @qml.set_shots(SHOTS)
    @qml.qnode(dev)
    def circuit():
        prepare(wide)
        return qml.var(qml.sum(*[qml.X(w) for w in range(wide)]))

    exact, error = exact_variance_and_error(obs, wide, SHOTS)
    assert abs(float(circuit()) - exact) < 5 * error


def test_variance_of_a_wide_sum_that_needs_its_eigenbasis_is_refused_by_name():
    wires = EIGENBASIS_MAX_WIRES + 1
    dev = qml.device("qtau.qubit", wires=wires)

    @qml.set_shots(100)
    @qml.qnode(dev)
    def circuit():
        prepare(wires)
        return qml.var(qml.prod(*[qml.X(w) for w in range(wires)]) + qml.Z(0))

    with pytest.raises(UnsupportedMeasurementError) as err:
        circuit()
    assert isinstance(err.value, QtauError) and isinstance(err.value, DeviceError)
    assert err.value.field == "measurement" and "var" in err.value.value
    assert "expval" in err.value.fix and str(EIGENBASIS_MAX_WIRES) in str(err.value)


def test_parameter_shift_gradient_of_a_variance_of_a_sum():
    def body(a):
        qml.RX(a, 0)
        qml.RY(0.7, 1)
        qml.CNOT([0, 1])
        return qml.var(qml.X(0) + qml.X(1))

    a = qml.numpy.array(0.6, requires_grad=True)
    ours = qml.grad(qml.set_shots(qml.QNode(body, qml.device("qtau.qubit", wires=2, seed=14),
                                            diff_method="parameter-shift"), SHOTS))(a)
    exact = qml.grad(qml.QNode(body, qml.device("default.qubit", wires=2)))(a)
    # A difference of variances of a sum with range [-2, 2] from 4 shifted tapes: 0.3 is over 5 sigma.
    assert abs(ours - exact) < 0.3


# -- postselection ----------------------------------------------------------------------------------


def postselected(x, counts=True):
    qml.RX(x, 0)
    qml.RY(0.4, 1)
    qml.CNOT([0, 1])
    m = qml.measure(0, postselect=1)
    qml.cond(m, qml.RY)(0.5, 1)
    measured = qml.expval(qml.Z(1)), qml.probs(wires=[0, 1]), qml.expval(qml.X(1))
    return (*measured, qml.counts(wires=[1])) if counts else measured  # counts: not analytic


def test_postselection_keeps_the_matching_shots_like_default_qubit():
    x = 1.1
    dev = qml.device("qtau.qubit", wires=2, seed=15)
    z1, probs, x1, counts = qml.set_shots(qml.QNode(postselected, dev), SHOTS)(x)
    ez1, eprobs, ex1 = qml.QNode(postselected, qml.device("default.qubit"))(x, counts=False)
    kept = sum(counts.values())
    p_kept = math.sin(x / 2) ** 2  # P(wire 0 reads 1)
    assert abs(kept - SHOTS * p_kept) < 5 * math.sqrt(SHOTS * p_kept * (1 - p_kept))
    error = 1 / math.sqrt(kept)
    assert abs(z1 - ez1) < 5 * error and abs(x1 - ex1) < 5 * error
    assert probs[0] == probs[1] == 0 and np.max(np.abs(probs - eprobs)) < 2.5 * error

    def tester(x):  # the tester's circuit: wire 1 follows wire 0, which is postselected on 1
        qml.RX(x, 0)
        qml.CNOT([0, 1])
        qml.measure(0, postselect=1)
        return qml.expval(qml.Z(1))

    ours = qml.set_shots(qml.QNode(tester, qml.device("qtau.qubit", wires=2)), 1000)(1.0)
    assert ours == qml.set_shots(qml.QNode(tester, qml.device("default.qubit", wires=2)), 1000)(1.0) == -1.0


def test_postselection_with_reset_samples_shot_vectors_and_broadcasting():
    def body(x):
        qml.RX(x, 0)
        qml.RY(0.4, 1)
        m = qml.measure(0, postselect=0, reset=True)  # the wire is used again: read through a copy
        qml.cond(m, qml.X)(1)
        qml.Hadamard(0)
        qml.CNOT([0, 1])
        return qml.expval(qml.Z(1)), qml.expval(m)

    dev = qml.device("qtau.qubit", wires=2, seed=16)
    reference = qml.QNode(body, qml.device("default.qubit"))
    xs = np.array([0.3, 1.2, 2.0])
    ours = qml.set_shots(qml.QNode(body, dev), SHOTS)(xs)
    exact = reference(xs)
    assert np.shape(ours[0]) == (3,) and np.all(np.asarray(ours[1]) == 0.0)
    kept = SHOTS * np.cos(xs / 2) ** 2
    assert np.all(np.abs(ours[0] - exact[0]) < 5 / np.sqrt(kept * 0.9))

    per_bin = qml.set_shots(qml.QNode(body, dev), [SHOTS, SHOTS])(1.2)
    assert len(per_bin) == 2 and all(abs(z - exact[0][1]) < 5 / math.sqrt(kept[1] * 0.9) for z, _ in per_bin)

    def sampled():
        qml.Hadamard(0)
        qml.CNOT([0, 1])
        qml.measure(1, postselect=1)
        return qml.sample(wires=[0, 1])

    rows = qml.set_shots(qml.QNode(sampled, dev), 1000)()
    assert rows.shape[1] == 2 and np.all(rows == 1) and abs(len(rows) - 500) < 5 * math.sqrt(250)


def test_a_basis_projector_in_the_circuit_postselects_like_default_qubit():
    """A `qml.Projector` onto a basis state placed in the circuit is a projection: default.qubit
    (shots) keeps the shots in its image, and so does qtau.qubit (it used to give the unprojected
    state's values). A projector onto a state vector is refused by name."""
    def body(projector):
        qml.RX(1.0, 0)
        qml.CNOT([0, 1])
        projector()
        qml.RY(0.5, 1)
        return qml.expval(qml.Z(1)), qml.counts(wires=[0])

    basis = qml.set_shots(qml.QNode(lambda: body(lambda: qml.Projector([1], wires=0)),
                                    qml.device("qtau.qubit", wires=2, seed=18)), SHOTS)
    z1, counts = basis()
    assert set(counts) == {"1"} and abs(counts["1"] - SHOTS * math.sin(0.5) ** 2) < 5 * math.sqrt(SHOTS * 0.25)
    assert abs(z1 + math.cos(0.5)) < 5 / math.sqrt(counts["1"])  # |11> then RY(0.5): <Z1> = -cos(0.5)

    vector = qml.set_shots(qml.QNode(lambda: body(lambda: qml.Projector(np.array([1.0, 1.0]) / math.sqrt(2), wires=0)),
                                     qml.device("qtau.qubit", wires=2)), 100)
    with pytest.raises(QtauDeviceError) as err:
        vector()
    assert err.value.field == "operation" and "basis state" in err.value.fix


def test_postselect_modes_other_than_discarding_shots_are_refused_by_name():
    dev = qml.device("qtau.qubit", wires=2)
    circuit = qml.set_shots(qml.QNode(postselected, dev, postselect_mode="fill-shots"), 100)
    with pytest.raises(QtauDeviceError) as err:
        circuit(0.5)
    assert err.value.field == "postselect_mode" and err.value.value == "fill-shots"
    assert "hw-like" in err.value.fix


# -- classical shadows and state snapshots ----------------------------------------------------------


@pytest.mark.parametrize("measure", [lambda: qml.shadow_expval(qml.Z(0) @ qml.Z(1)),
                                     lambda: qml.classical_shadow(wires=[0, 1])])
def test_classical_shadows_are_refused_as_unsupported_not_as_analytic(measure):
    def body():
        qml.Hadamard(0)
        qml.CNOT([0, 1])
        return measure()

    qml.set_shots(qml.QNode(body, qml.device("default.qubit", wires=2)), 50)()  # valid input
    with pytest.raises(UnsupportedMeasurementError) as err:
        qml.set_shots(qml.QNode(body, qml.device("qtau.qubit", wires=2)), 50)()
    assert isinstance(err.value, QtauError) and isinstance(err.value, DeviceError)
    assert err.value.field == "measurement" and "shadow" in str(err.value)
    assert "finite shots" not in str(err.value)
    assert "qml.expval" in err.value.fix and "default.qubit" in err.value.fix


def test_state_snapshot_is_refused_with_a_message_about_the_snapshot():
    dev = qml.device("qtau.qubit", wires=2, seed=17)

    def body(snapshot):
        qml.Hadamard(0)
        snapshot()
        qml.CNOT([0, 1])
        return qml.expval(qml.Z(0))

    state = qml.set_shots(qml.QNode(lambda: body(lambda: qml.Snapshot("after_h")), dev), 500)
    with pytest.raises(AnalyticModeError) as err, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PennyLane: snapshots unsupported, one tape per snapshot
        qml.snapshots(state)()
    assert "Snapshot" in str(err.value) and "qml.state()" in str(err.value)
    assert "measurement=qml.probs" in err.value.fix

    probs = qml.set_shots(qml.QNode(
        lambda: body(lambda: qml.Snapshot("after_h", measurement=qml.probs(wires=[0, 1]))), dev), SHOTS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snaps = qml.snapshots(probs)()
    assert np.max(np.abs(snaps["after_h"] - [0.5, 0.0, 0.5, 0.0])) < 5 * 0.5 / math.sqrt(SHOTS)


def test_analytic_mode_fix_is_the_set_shots_transform_which_does_not_warn():
    dev = qml.device("qtau.qubit", wires=1)

    @qml.qnode(dev)
    def circuit():
        qml.Hadamard(0)
        return qml.expval(qml.Z(0))

    with pytest.raises(AnalyticModeError) as err:
        circuit()
    assert "qml.set_shots" in err.value.fix and "qml.device(" not in err.value.fix
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PennyLane 0.45 deprecates shots on the device, not set_shots
        assert abs(float(qml.set_shots(circuit, shots=SHOTS)())) < 5 / math.sqrt(SHOTS)
