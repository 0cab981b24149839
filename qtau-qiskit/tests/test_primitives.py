"""QtauSampler and QtauEstimator against Qiskit's reference primitives (StatevectorSampler,
StatevectorEstimator): same pubs, same shapes, answers within statistical bounds. Real Aer.

Bounds: total variation distance between two empirical distributions of <= 4 outcomes from 4000
and 20000 shots has a standard deviation under 0.012; 0.06 is five of them.
"""

import math

import numpy as np
import pytest
from qiskit.circuit import ClassicalRegister, Parameter, QuantumCircuit, QuantumRegister
from qiskit.exceptions import QiskitError
from qiskit.primitives import StatevectorEstimator, StatevectorSampler
from qiskit.quantum_info import SparsePauliOp
from qtau import QtauError
from qtau.errors import UnknownExecutorError
from qtau_qiskit.primitives import InvalidShotsError, PubError, QtauEstimator, QtauSampler

EXECUTORS = ["qiskit_local"]


def tvd(a: dict, b: dict) -> float:
    na, nb = sum(a.values()), sum(b.values())
    return 0.5 * sum(abs(a.get(k, 0) / na - b.get(k, 0) / nb) for k in set(a) | set(b))


def two_register_circuit() -> QuantumCircuit:
    a, b = Parameter("a"), Parameter("b")
    alpha, beta = ClassicalRegister(2, "alpha"), ClassicalRegister(3, "beta")
    qc = QuantumCircuit(QuantumRegister(3), alpha, beta)
    qc.ry(a, 0)
    qc.cx(0, 1)
    qc.rx(b, 2)
    qc.h(1)
    qc.measure([0, 1], alpha)
    qc.measure(2, beta[2])  # beta[0] and beta[1] are never measured: they read 0
    return qc


def test_sampler_matches_statevector_sampler_in_shape_and_distribution():
    qc = two_register_circuit()
    values = np.random.default_rng(1).uniform(0, math.pi, size=(2, 3, 2))
    [ours] = QtauSampler(executors=EXECUTORS, seed=1).run([(qc, values)], shots=4000).result()
    [ref] = StatevectorSampler(seed=2).run([(qc, values)], shots=20000).result()
    assert set(ours.data) == set(ref.data) == {"alpha", "beta"}
    assert ours.data.shape == ref.data.shape == (2, 3)
    for name in ("alpha", "beta"):
        mine, theirs = getattr(ours.data, name), getattr(ref.data, name)
        assert mine.shape == theirs.shape and mine.num_bits == theirs.num_bits
        assert mine.array.dtype == theirs.array.dtype and mine.array.shape[:-2] == theirs.array.shape[:-2]
        assert mine.num_shots == 4000
        for index in np.ndindex(2, 3):
            assert tvd(mine.get_counts(index), theirs.get_counts(index)) < 0.06, (name, index)
    assert set(ours.data.beta.get_counts((0, 0))) <= {"000", "100"}
    assert ours.metadata["shots"] == 4000 and ours.metadata["circuit_metadata"] == ref.metadata["circuit_metadata"]


def test_sampler_honours_shots_per_pub_and_default_shots():
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.measure(0, 0)
    sampler = QtauSampler(executors=EXECUTORS, default_shots=77)
    first, second = sampler.run([qc, (qc, None, 130)]).result()
    assert first.data.c.num_shots == 77 and first.data.c.get_counts() == {"1": 77}
    assert second.data.c.num_shots == 130 and second.metadata["shots"] == 130


def test_sampler_records_provenance_per_binding():
    qc = two_register_circuit()
    values = np.zeros((4, 2))
    result = QtauSampler(executors=EXECUTORS).run([(qc, values)], shots=50).result()
    tasks = result[0].qtau["tasks"]
    assert len(tasks) == 4 and all(t["resource"].startswith("qiskit:") for t in tasks)
    assert all(t["attempts"][-1]["ok"] for t in tasks) and tasks[0]["conversion_path"] == ["qiskit"]
    assert sum(result.qtau["resources"].values()) == 4 and result.metadata == {"version": 2}


def test_estimator_matches_statevector_estimator_with_broadcasting():
    t = Parameter("t")
    qc = QuantumCircuit(2)
    qc.ry(t, 0)
    qc.cx(0, 1)
    qc.rz(0.3, 1)
    observables = [[SparsePauliOp.from_list([("ZZ", 1.0), ("XX", 0.5)])], [SparsePauliOp("YI")],
                   [SparsePauliOp("IX")]]
    values = np.linspace(0.2, 2.8, 4).reshape(4, 1)
    [ours] = QtauEstimator(executors=EXECUTORS, seed=3).run([(qc, observables, values)], precision=0.01).result()
    [ref] = StatevectorEstimator().run([(qc, observables, values)]).result()
    assert ours.data.evs.shape == ref.data.evs.shape == ours.data.stds.shape == (3, 4)
    assert ours.metadata["shots"] == 10000 and ours.metadata["target_precision"] == 0.01
    # 5 standard errors of a +-1 observable at 10,000 shots (0.05), times the coefficients' sum.
    assert np.max(np.abs(ours.data.evs - ref.data.evs)) < 0.075
    assert np.all(ours.data.stds > 0) and np.all(ours.data.stds <= 1.5 / 100 + 1e-12)


def test_estimator_precision_sets_shots():
    qc = QuantumCircuit(1)
    qc.h(0)
    [result] = QtauEstimator(executors=EXECUTORS).run([(qc, "X")], precision=0.05).result()
    assert result.metadata["shots"] == 400 and abs(float(result.data.evs) - 1.0) < 1e-9


def test_estimator_accepts_classical_bits_that_nothing_uses():
    """A circuit that declares classical bits (a register of its own, loose bits) but never measures
    runs, as on StatevectorEstimator and Aer's EstimatorV2; evs match StatevectorEstimator."""
    from qiskit.circuit import Clbit

    t = Parameter("t")
    qc = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(2, "alpha"), [Clbit()])
    qc.ry(t, 0)
    qc.cx(0, 1)
    qc.rz(0.4, 1)
    qc.metadata = {"name": "bell"}
    observables = [["ZZ"], ["XX"], ["ZI"], ["IY"]]
    values = np.array([[0.3], [1.7]])
    [ours] = QtauEstimator(executors=EXECUTORS, seed=5).run([(qc, observables, values)], precision=0.02).result()
    [ref] = StatevectorEstimator().run([(qc, observables, values)]).result()
    assert ours.data.evs.shape == ref.data.evs.shape == (4, 2)
    assert ours.metadata["circuit_metadata"] == ref.metadata["circuit_metadata"] == {"name": "bell"}
    # 2,500 shots per Pauli group: 5 standard errors of a +-1 observable is 0.1.
    assert np.max(np.abs(ours.data.evs - ref.data.evs)) < 0.1
    bare = QuantumCircuit(2, 2)  # the tester's circuit: <ZZ> of a Bell state is exactly 1
    bare.h(0)
    bare.cx(0, 1)
    [bell] = QtauEstimator(executors=EXECUTORS).run([(bare, "ZZ")], precision=0.05).result()
    assert float(bell.data.evs) == pytest.approx(float(StatevectorEstimator().run([(bare, "ZZ")]).result()[0].data.evs))


def test_estimator_refuses_circuits_that_measure_as_statevector_estimator_does():
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.measure_all()
    with pytest.raises(QiskitError):
        StatevectorEstimator().run([(qc, "ZZ")]).result()
    with pytest.raises(PubError) as err:
        QtauEstimator(executors=EXECUTORS).run([(qc, "ZZ")])
    assert err.value.field == "pubs[0].circuit" and "'measure'" in str(err.value)
    assert "remove_final_measurements" in err.value.fix


@pytest.mark.parametrize("shots", [0, -5, 2.5, True, "100"])
def test_sampler_shots_that_are_not_a_positive_integer_are_named(shots):
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    with pytest.raises((ValueError, TypeError)):
        StatevectorSampler().run([qc], shots=shots)
    sampler = QtauSampler(executors=EXECUTORS)
    with pytest.raises(InvalidShotsError) as err:
        sampler.run([qc], shots=shots)
    assert isinstance(err.value, PubError) and isinstance(err.value, QtauError)
    assert err.value.field == "shots" and err.value.value == shots
    assert "positive integer" in err.value.fix and "parameter" not in str(err.value)
    with pytest.raises(InvalidShotsError) as err:
        sampler.run([qc, (qc, None, shots)])
    assert err.value.field == "pubs[1].shots" and err.value.value == shots
    with pytest.raises(InvalidShotsError) as err:
        QtauSampler(executors=EXECUTORS, default_shots=shots)
    assert err.value.field == "default_shots"


def test_estimator_precision_that_is_not_a_non_negative_number_is_named():
    qc = QuantumCircuit(1)
    estimator = QtauEstimator(executors=EXECUTORS)
    for precision in (-0.1, "0.1"):
        with pytest.raises(InvalidShotsError) as err:
            estimator.run([(qc, "Z")], precision=precision)
        assert err.value.field == "precision" and err.value.value == precision
        assert "parameter" not in str(err.value)
        with pytest.raises(InvalidShotsError) as err:
            estimator.run([(qc, "Z", None, precision)])
        assert err.value.field == "pubs[0].precision"


def _isa(circuit: QuantumCircuit) -> QuantumCircuit:
    """`circuit` transpiled for a 127-qubit device, as Qiskit users run ISA circuits."""
    from qiskit.providers.fake_provider import GenericBackendV2
    from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager

    backend = GenericBackendV2(num_qubits=127, seed=11)
    return generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=1).run(circuit)


def test_isa_circuits_of_a_127_qubit_device_run_on_the_qubits_they_use():
    """A 3-qubit program transpiled for a 127-qubit device declares 127 qubits, 124 of them idle;
    Aer's SamplerV2 and EstimatorV2 run it (Aer leaves idle qubits out), and so do QTAU's: the
    counts and expectation values are the logical circuit's (StatevectorSampler/Estimator)."""
    t = Parameter("t")
    logical = QuantumCircuit(3)
    logical.ry(t, 0)
    logical.cx(0, 1)
    logical.cx(1, 2)
    logical.h(2)
    measured = logical.copy()
    measured.measure_all()
    isa = _isa(measured)
    assert isa.num_qubits == 127
    values = np.array([[0.4], [2.2]])
    [ours] = QtauSampler(executors=EXECUTORS, seed=1).run([(isa, values)], shots=4000).result()
    [ref] = StatevectorSampler(seed=2).run([(measured, values)], shots=20000).result()
    assert ours.data.meas.shape == (2,) and ours.data.meas.num_bits == 3
    for index in range(2):
        assert tvd(ours.data.meas.get_counts(index), ref.data.meas.get_counts(index)) < 0.06
    assert all(task["resource"].startswith("qiskit:") for task in ours.qtau["tasks"])

    isa = _isa(logical)
    observables = [SparsePauliOp.from_list([("ZZI", 1.0), ("XXX", 0.5)]), SparsePauliOp("IIY"), SparsePauliOp("III")]
    laid_out = [o.apply_layout(isa.layout) for o in observables]
    pubs = [(isa, [[o] for o in laid_out], values)]
    [expected] = StatevectorEstimator().run([(logical, [[o] for o in observables], values)]).result()
    [sampled] = QtauEstimator(executors=EXECUTORS, seed=3).run(pubs, precision=0.02).result()
    [exact] = QtauEstimator(executors=EXECUTORS).run(pubs, precision=0).result()
    assert sampled.data.evs.shape == exact.data.evs.shape == sampled.data.stds.shape == (3, 2)
    assert "cut" not in sampled.qtau  # 3 qubits are run: nothing to cut
    # 2,500 shots per Pauli group: 5 standard errors of a +-1 observable is 0.1, times 1.5.
    assert np.max(np.abs(sampled.data.evs - expected.data.evs)) < 0.15
    np.testing.assert_allclose(exact.data.evs, expected.data.evs, atol=1e-9)


def dynamic_circuits() -> dict[str, QuantumCircuit]:
    """Circuits whose bits depend on more than the final state: Aer's SamplerV2 runs them all."""
    feed_forward = QuantumCircuit(QuantumRegister(3), ClassicalRegister(1, "c"), ClassicalRegister(2, "out"))
    feed_forward.h(0)
    feed_forward.measure(0, 0)
    with feed_forward.if_test((feed_forward.cregs[0], 1)) as else_:
        feed_forward.x(1)
    with else_:
        feed_forward.x(2)
    feed_forward.measure([1, 2], feed_forward.cregs[1])
    remeasured = QuantumCircuit(2, 3)  # a bit measured twice, a qubit reused, measure then barrier
    remeasured.h(0)
    remeasured.measure(0, 0)
    remeasured.h(0)
    remeasured.measure(0, 1)
    remeasured.barrier()
    remeasured.x(1)
    remeasured.measure(1, 2)
    until_zero = QuantumCircuit(1, 1)
    until_zero.h(0)
    until_zero.measure(0, 0)
    with until_zero.while_loop((until_zero.clbits[0], 1)):
        until_zero.h(0)
        until_zero.measure(0, 0)
    switch = QuantumCircuit(QuantumRegister(3), ClassicalRegister(2, "s"), ClassicalRegister(1, "r"))
    switch.h([0, 1])
    switch.measure([0, 1], switch.cregs[0])
    with switch.switch(switch.cregs[0]) as case:
        with case(0):
            switch.x(2)
        with case(1, 2):
            switch.h(2)
    switch.measure(2, switch.cregs[1][0])
    return {"feed_forward": feed_forward, "remeasured": remeasured, "until_zero": until_zero, "switch": switch}


def test_dynamic_circuits_run_as_on_aers_sampler():
    """Mid-circuit measurements and control flow (if/else, while, switch, for with a parameter) run,
    as on Aer's SamplerV2: the same registers, shapes and, within statistical bounds, counts."""
    from qiskit_aer.primitives import SamplerV2 as AerSamplerV2

    t = Parameter("t")
    repeated = QuantumCircuit(1, 1)
    with repeated.for_loop(range(3)):
        repeated.rx(t, 0)
    repeated.measure(0, 0)
    pubs = [*dynamic_circuits().values(), (repeated, [[0.3], [0.9]])]
    ours = QtauSampler(executors=EXECUTORS, seed=1).run(pubs, shots=4000).result()
    ref = AerSamplerV2(seed=2).run(pubs, shots=20000).result()
    for mine, theirs in zip(ours, ref, strict=True):
        assert set(mine.data) == set(theirs.data) and mine.data.shape == theirs.data.shape
        for name in theirs.data:
            bits, expected = getattr(mine.data, name), getattr(theirs.data, name)
            assert bits.num_bits == expected.num_bits and bits.num_shots == 4000
            for index in np.ndindex(expected.shape):
                assert tvd(bits.get_counts(index), expected.get_counts(index)) < 0.06, (name, index)
    assert ours[1].data.c.get_counts().keys() <= {"100", "110", "101", "111"}  # bit 2 always 1


# -- bad input ------------------------------------------------------------------------------------


def test_mismatched_parameter_shapes_are_a_pub_error():
    qc = two_register_circuit()
    with pytest.raises(PubError) as err:
        QtauSampler(executors=EXECUTORS).run([(qc, np.zeros((5, 3)))])
    assert isinstance(err.value, QtauError) and isinstance(err.value, ValueError)
    assert err.value.field == "pubs[0]" and "Fix:" in str(err.value)
    t = Parameter("t")
    qe = QuantumCircuit(1)
    qe.rx(t, 0)
    with pytest.raises(PubError, match="not broadcastable"):
        QtauEstimator(executors=EXECUTORS).run([(qe, ["Z", "X", "Y"], np.zeros((2, 1)))])


def test_observables_on_another_number_of_qubits_than_the_circuit_name_the_layout_fix():
    """The common slip with ISA circuits: observables written for the logical circuit (3 qubits)
    on the transpiled one (127). The error names the observables, both widths and apply_layout."""
    logical = QuantumCircuit(3)
    logical.h(0)
    logical.cx(0, 2)
    isa = _isa(logical)
    with pytest.raises(PubError) as err:
        QtauEstimator(executors=EXECUTORS).run([(isa, SparsePauliOp("ZIZ"))])
    assert isinstance(err.value, ValueError) and err.value.field == "pubs[0].observables"
    assert "3" in str(err.value) and "127" in str(err.value)
    assert "apply_layout(isa.layout)" in err.value.fix


def test_exact_precision_when_not_allowed_is_refused():
    qc = QuantumCircuit(1)
    with pytest.raises(PubError, match="precision must be positive"):
        QtauEstimator(executors=EXECUTORS, exact=False).run([(qc, "Z")], precision=0.0)


def test_unknown_executor_fails_at_construction():
    with pytest.raises(UnknownExecutorError, match="aer_local"):
        QtauSampler(executors=["aer_local"])
