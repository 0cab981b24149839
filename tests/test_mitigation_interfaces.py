"""One mitigation setting across the interfaces (issue 27 item 2): QtauEstimator(mitigation=...)
and qml.device("qtau.qubit", mitigation=...) on a noisy Aer pilot: mitigated values closer to
the exact ones, the technique, overhead and unmitigated values beside them; bad settings refused
where they are given."""

import pytest
from qtau import ExecutionEngine, MitigationError, PilotComputeService
from qtau.mitigation import mitigated_counts
from qtau.mitigation.distributions import nearest_probabilities, rounded_counts

NOISY = {"resource_type": "quantum", "quantum": {
    "executor": "qiskit_local", "seed_simulator": 4,
    "noise": {"depolarizing_1q": 0.004, "depolarizing_2q": 0.04, "readout": 0.05}}}


@pytest.fixture(scope="module")
def pcs():
    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL)
    service.create_pilot(NOISY)
    yield service
    service.close()


def ghz3():
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    return qc


def test_nearest_probabilities_and_rounding():
    probs = nearest_probabilities({"00": 0.6, "11": 0.5, "01": -0.1})
    assert probs == pytest.approx({"00": 0.55, "11": 0.45})
    assert nearest_probabilities({"0": 0.25, "1": 0.75}) == pytest.approx({"0": 0.25, "1": 0.75})
    counts = rounded_counts({"00": 0.5, "01": 0.3, "11": 0.2}, 7)
    assert sum(counts.values()) == 7 and counts == {"00": 4, "01": 2, "11": 1}


def test_estimator_returns_mitigated_values_beside_the_unmitigated(pcs):
    pytest.importorskip("qiskit")
    from qiskit.quantum_info import SparsePauliOp
    from qtau_qiskit.primitives import QtauEstimator

    qc = ghz3()
    obs = SparsePauliOp(["ZZI", "IZZ", "XXX"])  # exact value 3
    res = QtauEstimator(service=pcs, mitigation="zne+readout", seed=3).run([(qc, obs)], precision=0.01).result()[0]
    info = res.metadata["mitigation"]
    # Two tasks (the Z and the X basis), 3 circuits each, and the readout calibration's 2: once when
    # they ran in one call or one after the other, twice when two threads planned them at once.
    assert info["technique"] == "zne+readout" and info["overhead"]["tasks"] == 2
    assert info["overhead"]["circuits"] in (8, 10)
    assert info["overhead"]["shots_multiplier"] == info["overhead"]["circuits"] / 2
    assert abs(3 - float(res.data.evs)) < abs(3 - float(info["unmitigated_evs"])) / 3
    plain = QtauEstimator(service=pcs, seed=3).run([(qc, obs)], precision=0.01).result()[0]
    assert "mitigation" not in plain.metadata


def test_estimator_refuses_a_bad_setting_where_it_is_given():
    pytest.importorskip("qiskit")
    from qtau_qiskit.primitives import QtauEstimator

    with pytest.raises(MitigationError) as err:
        QtauEstimator(mitigation="zen")
    assert err.value.field == "mitigation"


def test_pennylane_device_mitigates_expectation_values(pcs):
    qml = pytest.importorskip("pennylane")
    values = {}
    for technique in ("none", "zne+readout"):
        dev = qml.device("qtau.qubit", wires=3, service=pcs, mitigation=technique, seed=1)

        @qml.set_shots(8000)
        @qml.qnode(dev)
        def ghz():
            qml.Hadamard(0)
            qml.CNOT([0, 1])
            qml.CNOT([1, 2])
            return qml.expval(qml.PauliZ(0) @ qml.PauliZ(1))

        values[technique] = float(ghz())
        record = dev.last_provenance[0]
    assert abs(1 - values["zne+readout"]) < abs(1 - values["none"]) / 3
    assert record["mitigation"]["technique"] == "zne+readout"
    assert sum(record["mitigation"]["unmitigated_counts"].values()) == 8000
    with pytest.raises(MitigationError):
        qml.device("qtau.qubit", wires=1, service=pcs, mitigation={"technique": "zne", "fit": "cubic"})


def test_mitigated_counts_sum_to_the_shots(pcs):
    from qtau import QuantumTask
    from qtau_test_circuits import ghz

    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=ghz(2), shots=999, mitigation="readout")))
    counts = mitigated_counts(result)
    assert sum(counts.values()) == 999 and all(n > 0 for n in counts.values())


def test_sampler_bits_follow_the_mitigated_distribution(pcs):
    pytest.importorskip("qiskit")
    from qtau_qiskit.primitives import QtauSampler

    qc = ghz3()
    qc.measure_all()

    def zz_parity(bits):  # <Z1 Z0>: exactly 1 for a GHZ state
        counts = bits.get_counts()
        return sum((1 if (k[-1] == k[-2]) else -1) * v for k, v in counts.items()) / bits.num_shots

    res = QtauSampler(service=pcs, mitigation="zne+readout", seed=2).run([qc], shots=8000).result()[0]
    info = res.metadata["mitigation"]
    assert info["technique"] == "zne+readout" and info["auto"] is False
    assert info["overhead"]["circuits"] in (3, 5)  # 5 with a fresh readout calibration, 3 once cached
    assert info["overhead"]["tasks"] == 1
    [raw] = info["unmitigated_counts"]
    assert sum(raw.values()) == 8000 == res.data.meas.num_shots
    raw_parity = sum((1 if k[-1] == k[-2] else -1) * v for k, v in raw.items()) / 8000
    assert abs(1 - zz_parity(res.data.meas)) < abs(1 - raw_parity) / 3
    plain = QtauSampler(service=pcs, seed=2).run([qc], shots=1000).result()[0]
    assert "mitigation" not in plain.metadata and plain.data.meas.num_shots == 1000


def test_sampler_refuses_a_bad_setting_where_it_is_given():
    pytest.importorskip("qiskit")
    from qtau_qiskit.primitives import QtauSampler

    with pytest.raises(MitigationError) as err:
        QtauSampler(mitigation={"technique": "readout", "twirls": 0})
    assert err.value.field.startswith("mitigation")
