"""Issue 28: circuits wider than every resource are cut, the pieces run across backends of
different vendors, and the expectation values are reconstructed within their error bars.

Pilots capped with `quantum.max_qubits` emulate a fleet of small devices with the local
simulators (Aer, Qiskit's BasicSimulator, Braket's local simulator); nothing is mocked. Exact
values come from a statevector of the whole circuit.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("qiskit_addon_cutting")

from qiskit import QuantumCircuit  # noqa: E402
from qiskit.circuit.library import efficient_su2  # noqa: E402
from qiskit.quantum_info import SparsePauliOp, Statevector  # noqa: E402
from qtau import ExecutionEngine, PilotComputeService, QuantumTask  # noqa: E402
from qtau.cutting import plan_cut, run_cut  # noqa: E402
from qtau.errors import ConfigurationError, InvalidTaskError, NoSuitableResourceError  # noqa: E402


def ansatz(n: int, seed: int = 3):
    qc = efficient_su2(n, entanglement="linear", reps=1)
    return qc.assign_parameters(np.random.default_rng(seed).uniform(0, np.pi, qc.num_parameters))


def exact(qc, observable) -> float:
    op = SparsePauliOp(observable) if isinstance(observable, str) else observable
    return float(Statevector(qc).expectation_value(op).real)


def capped(executors, width: int = 4) -> PilotComputeService:
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL)
    for executor in executors:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor, "max_qubits": width}})
    pcs.initialize_dreamer()
    return pcs


@pytest.fixture
def fleet():
    """Three 4-qubit simulators from two vendors."""
    pcs = capped(("qiskit_local", "braket_local"))
    yield pcs
    pcs.cancel()


@pytest.fixture
def fleet3():
    """Four 4-qubit simulators from three vendors (PennyLane's default.qubit runs pieces that
    read a qubit twice through mid-circuit measurement values)."""
    pcs = capped(("qiskit_local", "braket_local", "pennylane_default"))
    yield pcs
    pcs.cancel()


def test_max_qubits_caps_every_resource_of_the_pilot_and_stays_out_of_the_backend_config():
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pilot = pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "max_qubits": 3}})
        assert pilot.resources and all(r.num_qubits == 3 for r in pilot.resources)
        assert "max_qubits" not in pilot.config


@pytest.mark.parametrize("bad", [0, -2, 2.5, "5", True])
def test_a_bad_max_qubits_is_refused_naming_the_field(bad):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        with pytest.raises(ConfigurationError) as err:
            pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "max_qubits": bad}})
    assert err.value.field == "quantum.max_qubits"


def test_a_plan_cuts_only_what_does_not_fit_and_prices_it_before_anything_runs(fleet):
    qc = ansatz(6)
    plan = plan_cut(fleet, qc, ["ZIIIIZ", "IIZZII"], shots=1000)
    assert plan.num_cuts >= 1 and plan.sampling_overhead >= 9
    assert all(w <= 4 for w in plan.subsystems.values()) and len(plan.subsystems) >= 2
    assert plan.num_circuits == sum(plan.subexperiments.values()) == len(plan.tasks())
    assert sum(plan.placement.values()) == plan.num_circuits  # every subexperiment was quoted
    assert plan.price == {"USD": 0.0} or plan.price == {}
    text = plan.explain()
    assert "sampling overhead" in text and "gate cut" in text
    assert all(task.num_qubits <= 4 for _, _, task in plan.tasks())
    narrow = plan_cut(fleet, ansatz(4), ["ZZZZ"], shots=1000)
    assert narrow.num_cuts == 0 and narrow.sampling_overhead == 1.0 and "no cut" in narrow.reason


def test_cut_pieces_run_on_three_vendors_and_reconstruct_within_their_error_bars(fleet3):
    qc = ansatz(6)
    observables = ["ZIIIIZ", "IIZZII", SparsePauliOp(["XIIIII", "IIIIZZ"], [0.5, -1.0])]
    result = run_cut(fleet3, qc, observables, shots=3000, seed=7)
    assert result.plan.num_cuts >= 1
    providers = {rid.split(":")[0] for rid in result.resources}
    assert providers == {"qiskit", "braket", "pennylane"}, result.resources  # QDREAMER spread the pieces
    assert len(result.pieces) == result.plan.num_circuits
    for value, error, observable in zip(result.values, result.standard_errors, observables, strict=True):
        assert 0 < error < 0.2
        assert abs(value - exact(qc, observable)) < 4 * error + 0.01, (value, exact(qc, observable), error)


def test_a_qubit_only_an_observable_reads_is_a_piece_of_its_own(fleet):
    """Qubit 5 has no gate; the add-on labelled it no piece and generating the subexperiments
    failed with a bare KeyError: None (QtauEstimator with cutting, a hand-built or ISA circuit). It
    stays |0>: Z reads +1 there, X 0."""
    qc = QuantumCircuit(6)
    qc.h(0)
    for q in range(4):
        qc.cx(q, q + 1)
    observables = ["ZIZIII", "IIIIZZ", "XIIIIZ"]
    result = run_cut(fleet, qc, observables, shots=2000, seed=7)
    assert result.plan.num_cuts >= 1 and all(w <= 4 for w in result.plan.subsystems.values())
    for value, error, observable in zip(result.values, result.standard_errors, observables, strict=True):
        assert abs(value - exact(qc, observable)) < 4 * error + 0.02, (observable, value, error)


def test_cut_false_refuses_a_circuit_wider_than_every_resource_and_names_the_fix(fleet):
    with pytest.raises(NoSuitableResourceError) as err:
        plan_cut(fleet, ansatz(6), ["ZIIIIZ"], cut=False)
    assert err.value.field == "cut" and "cut='auto'" in err.value.fix


#: Braket's density-matrix simulator with a noise model: Braket applies noise models to Circuits
#: only, so it cannot run the programs a mid-circuit measurement needs (qtau_braket.programs).
NOISY_DM = {"executor": "braket_local_dm", "noise": {"depolarizing_1q": 0.001}, "max_qubits": 4}


def test_pieces_need_a_resource_that_measures_mid_circuit():
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": NOISY_DM})
        with pytest.raises(NoSuitableResourceError) as err:
            plan_cut(pcs, ansatz(6), ["ZIIIIZ"])
    assert "mid-circuit" in str(err.value)


def test_pieces_run_on_braket_alone_as_programs():
    """Braket's local simulator runs the pieces' mid-circuit measurements as OpenQASM programs
    (qtau_braket.programs): a cut on it alone reconstructs the exact value within its error bar."""
    qc = ansatz(6)
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_local", "max_qubits": 4}})
        result = run_cut(pcs, qc, ["ZIIIIZ"], shots=3000, seed=7)
    assert result.plan.num_cuts >= 1 and set(result.resources) == {"braket:local_sv"}
    [value], [error] = result.values, result.standard_errors
    assert 0 < error < 0.2 and abs(value - exact(qc, "ZIIIIZ")) < 4 * error + 0.01, (value, error)


@pytest.mark.parametrize("cut, field", [
    ({"max_widht": 3}, "cut"), ({"max_width": 0}, "cut.max_width"), ({"max_overhead": 0.5}, "cut.max_overhead"),
    ({"gate_cuts": False, "wire_cuts": False}, "cut"), ("sometimes", "cut"),
])
def test_bad_cut_options_are_refused_naming_the_field(fleet, cut, field):
    with pytest.raises(InvalidTaskError) as err:
        plan_cut(fleet, ansatz(6), ["ZIIIIZ"], cut=cut)
    assert err.value.field == field


@pytest.mark.parametrize("observables", [["ZZ"], [], ["ZQIIII"]])
def test_bad_observables_are_refused(fleet, observables):
    with pytest.raises(InvalidTaskError) as err:
        plan_cut(fleet, ansatz(6), observables)
    assert err.value.field == "observables"


def test_a_max_overhead_below_the_cheapest_cut_is_refused_before_anything_runs(fleet):
    with pytest.raises(NoSuitableResourceError) as err:
        plan_cut(fleet, ansatz(8), ["ZIIIIIIZ"], cut={"max_overhead": 2})
    assert err.value.field in ("cut", "cut.max_overhead")


def test_an_openqasm_program_is_cut_like_the_circuit_it_describes(fleet):
    from qiskit import qasm2, transpile

    qc = transpile(ansatz(6), basis_gates=["u", "cx"], optimization_level=0)
    plan = plan_cut(fleet, qasm2.dumps(qc), ["ZIIIIZ"], shots=500)
    assert plan.num_cuts >= 1 and plan.circuit_qubits == 6


def test_an_openqasm_3_program_with_a_comment_before_its_header_is_cut_and_reconstructed(fleet):
    # Valid OpenQASM 3 that every other path of QTAU reads: it was read as OpenQASM 2 (the
    # version was looked for at the first character) and refused as unreadable.
    from qiskit import QuantumCircuit, qasm3

    ghz = QuantumCircuit(6)
    ghz.h(0)
    for q in range(5):
        ghz.cx(q, q + 1)
    text = "// GHZ-6, exported with qiskit.qasm3.dumps\n" + qasm3.dumps(ghz)
    result = run_cut(fleet, text, ["ZIIIIZ", "IIZZII"], shots=2000)
    assert result.values == pytest.approx([1.0, 1.0], abs=max(0.05, 4 * max(result.standard_errors)))


def test_qtau_estimator_cuts_a_pub_wider_than_every_resource_and_says_so(fleet):
    from qtau_qiskit.primitives import QtauEstimator

    qc = efficient_su2(6, entanglement="linear", reps=1)
    values = np.random.default_rng(4).uniform(0, np.pi, qc.num_parameters)
    observable = SparsePauliOp(["ZZIIII", "IIIIZZ", "XIIIIX"], [1.0, 0.5, -0.3])
    result = QtauEstimator(service=fleet, seed=5).run([(qc, observable, values)], precision=0.03).result()
    [pub] = result
    target = exact(qc.assign_parameters(values), observable)
    assert pub.qtau["cut"][0]["cuts"] >= 1 and pub.qtau["cut"][0]["width"] <= 4
    assert 0 < float(pub.data.stds) < 0.2
    assert abs(float(pub.data.evs) - target) < 4 * float(pub.data.stds) + 0.01
    with pytest.raises(NoSuitableResourceError):
        QtauEstimator(service=fleet, cutting=False).run([(qc, observable, values)], precision=0.03).result()


def test_qtau_estimator_refuses_bad_cutting_where_it_is_written():
    from qtau_qiskit.primitives import QtauEstimator

    with pytest.raises(InvalidTaskError) as err:
        QtauEstimator(cutting="maybe")
    assert err.value.field == "cut"


def test_a_qubit_read_twice_counts_as_a_mid_circuit_measurement_so_braket_is_not_chosen_for_it():
    """A cut piece measures a cut qubit and then reads it again as an observable; Braket's local
    simulator cannot measure a qubit twice. Both summaries (Qiskit's and OpenQASM's) say so."""
    from qiskit import QuantumCircuit, qasm3
    from qtau.qasm_summary import summarize
    from qtau_qiskit.formats import summary

    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.measure(0, 0)
    qc.measure(0, 1)
    assert summary(qc, "qiskit").mid_circuit_measurement
    assert summarize(qasm3.dumps(qc), "3").mid_circuit_measurement
    once = QuantumCircuit(2, 2)
    once.h(0)
    once.measure([0, 1], [0, 1])
    assert not summary(once, "qiskit").mid_circuit_measurement
    assert not summarize(qasm3.dumps(once), "3").mid_circuit_measurement


def test_a_quantum_task_with_observables_is_cut_and_comes_back_as_one_result(fleet):
    qc = ansatz(6)
    observables = ["ZIIIIZ", "IIZZII"]
    handle = fleet.submit_quantum_task(QuantumTask(circuit=qc, num_qubits=6, observables=observables, shots=3000))
    [result] = fleet.get_results([handle])
    assert result.task_id == handle.task_id and len(result.values) == 2
    assert result.metadata["cut"]["cuts"] and result.metadata["cut"]["width"] <= 4
    assert len(result.parts) == result.metadata["cut"]["subexperiments"]
    assert {p.resource_id for p in result.parts} == set(result.resource_id.split(","))
    for value, error, observable in zip(result.values, result.metadata["standard_errors"], observables, strict=True):
        assert abs(value - exact(qc, observable)) < 4 * error + 0.01


def test_observables_on_a_wide_enough_resource_are_measured_without_cutting_beside_plain_tasks():
    from qtau_test_circuits import bell

    qc = ansatz(3)
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        tasks = [QuantumTask(circuit=bell(), num_qubits=2, shots=100),
                 QuantumTask(circuit=qc, num_qubits=3, observables=["ZZI", "XIX", "IIY"], shots=4000),
                 QuantumTask(circuit=lambda: qc, num_qubits=3, observables="ZZZ", shots=4000)]
        plain, measured, from_function = pcs.get_results(pcs.submit_quantum_tasks(tasks))
    assert sum(plain.counts.values()) == 100
    assert not measured.metadata["cut"]["cuts"] and measured.metadata["cut"]["sampling_overhead"] == 1.0
    for value, error, observable in zip(measured.values, measured.metadata["standard_errors"],
                                        ["ZZI", "XIX", "IIY"], strict=True):
        assert abs(value - exact(qc, observable)) < 4 * error + 0.01
    assert abs(from_function.values[0] - exact(qc, "ZZZ")) < 4 * from_function.metadata["standard_errors"][0] + 0.01


@pytest.mark.parametrize("observables", [[], ["ZQ"], [3], "xz"])
def test_a_quantum_task_refuses_bad_observables_where_it_is_made(observables):
    with pytest.raises(InvalidTaskError) as err:
        QuantumTask(circuit="OPENQASM 2.0;", observables=observables)
    assert err.value.field == "observables"


def test_a_quantum_task_refuses_a_bad_cut_where_it_is_made():
    with pytest.raises(InvalidTaskError) as err:
        QuantumTask(circuit="OPENQASM 2.0;", observables=["Z"], cut={"max_width": -1})
    assert err.value.field == "cut.max_width"


def test_pieces_pinned_where_they_cannot_run_are_refused_and_nothing_stays_in_flight(fleet):
    """Pinned to a noisy Braket density-matrix simulator, which cannot measure mid-circuit: the
    pieces that must are refused with NoSuitableResourceError, and no piece holds an in-flight slot
    afterwards."""
    fleet.create_pilot({"resource_type": "quantum", "quantum": NOISY_DM})
    qc = ansatz(6)
    before = fleet.qdreamer.in_flight()
    with pytest.raises(NoSuitableResourceError) as err:
        fleet.submit_quantum_task(QuantumTask(
            circuit=qc, num_qubits=6, observables=["ZIIIIZ"], resource="braket:local_dm_noisy"))
    assert "mid-circuit" in str(err.value)
    assert fleet.qdreamer.in_flight() == before  # no piece was started


def test_qtau_qubit_cuts_a_tape_wider_than_every_resource(fleet):
    """`qml.device("qtau.qubit", cutting="auto")` with 6 wires on pilots capped at 4 qubits: the
    QNode's Pauli expectation values come back cut and reconstructed; default.qubit gives the exact
    values."""
    qml = pytest.importorskip("pennylane")

    def circuit(weights):
        for w in range(6):
            qml.RY(weights[w], wires=w)
        for w in range(5):
            qml.CNOT(wires=[w, w + 1])
        for w in range(6):
            qml.RX(weights[6 + w], wires=w)
        return qml.expval(qml.Z(0) @ qml.Z(5)), qml.expval(0.5 * qml.X(2) - qml.Z(3) @ qml.Z(4))

    weights = np.random.default_rng(8).uniform(0, np.pi, 12)
    dev = qml.device("qtau.qubit", wires=6, shots=4000, service=fleet)
    got = qml.QNode(circuit, dev)(weights)
    want = qml.QNode(circuit, qml.device("default.qubit", wires=6))(weights)
    [record] = dev.last_cuts
    assert record["cut"]["cuts"] and record["cut"]["width"] <= 4
    spread = max(record["standard_errors"].values())
    for g, w in zip(got, want, strict=True):
        assert abs(float(g) - float(w)) < 6 * spread + 0.02
    with pytest.raises(Exception) as err:
        qml.device("qtau.qubit", wires=6, shots=100, service=fleet, cutting=False)
    assert getattr(err.value, "field", None) == "wires"


def test_pennylane_runs_a_qiskit_circuit_that_reads_a_qubit_twice():
    """Bit 0 and bit 1 read qubit 0 twice (a CNOT between), bit 2 reads NOT qubit 1: only 011 and
    100 can occur, on PennyLane as on Aer (before, the conversion named wire 0 twice and failed)."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, 3)
    qc.h(0)
    qc.measure(0, 0)
    qc.cx(0, 1)
    qc.measure(0, 1)
    qc.x(1)
    qc.measure(1, 2)
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "pennylane_default"}})
        counts = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, num_qubits=2, shots=400))).counts
    assert set(counts) == {"011", "100"} and sum(counts.values()) == 400


@pytest.mark.parametrize("executor", ["pennylane_default", "pennylane_lightning"])
def test_pennylane_reads_a_mid_circuit_measurement_when_it_was_made_not_at_the_end(executor):
    """Qubit 0 is read once (bit 0, it reads 1), then flipped back before the CNOT: only 01 can
    occur, as on Aer. Before, a qubit measured once was counted at the end, after the gates that
    followed its measurement: this circuit read 00, and a cut circuit's pieces (which measure a cut
    qubit and go on using it) gave values several standard errors off on PennyLane's simulators."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.measure(0, 0)
    qc.x(0)
    qc.cx(0, 1)
    qc.measure(1, 1)
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
        counts = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, num_qubits=2, shots=200))).counts
    assert counts == {"01": 200}


def test_a_quote_of_a_task_with_observables_prices_its_pieces_and_shows_its_plan(fleet):
    task = QuantumTask(circuit=ansatz(6), num_qubits=6, observables=["ZIIIIZ"], shots=500)
    quote = fleet.quote([task, QuantumTask(circuit=ansatz(3), num_qubits=3, shots=10)])
    notes = [w for w in quote.warnings if task.task_id in w]
    assert len(notes) == 1 and "sampling overhead" in notes[0]
    pieces = len(quote.tasks) - 1
    assert pieces > 1 and all(q.chosen for q in quote.tasks)
    assert "measured as" in str(quote)


def test_auto_cuts_a_circuit_that_fits_when_pieces_on_better_resources_are_expected_more_accurate():
    """A 30-qubit Aer with a depolarising noise model (a real noise model, and the profile QDREAMER
    ranks with) beside a clean Aer capped at 4 qubits: "auto" cuts the 6-qubit circuit onto the
    clean one, and the cut values are closer to the exact ones than the noisy whole run's."""
    qc = ansatz(6)
    observables = ["ZIIIIZ", "IIZZII"]
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "name": "noisy", "quantum": {
            "executor": "qiskit_local", "backend": "aer_simulator",
            "noise": {"depolarizing_2q": 0.08, "depolarizing_1q": 0.01}}})
        pcs.create_pilot({"resource_type": "quantum", "name": "clean", "quantum": {
            "executor": "qiskit_local", "backend": "aer_simulator", "max_qubits": 4}})
        plan = plan_cut(pcs, qc, observables, shots=4000)
        assert plan.num_cuts >= 1 and "although one is wide enough" in plan.reason
        assert plan.expected_fidelity > 0.99 and plan.total_error < 0.1
        cut = run_cut(pcs, qc, observables, shots=4000, seed=3)
        whole = run_cut(pcs, qc, observables, shots=4000, cut=False, seed=3)
    assert set(whole.resources) == {"qiskit:aer_simulator_noisy"}
    cut_error = sum(abs(v - exact(qc, o)) for v, o in zip(cut.values, observables, strict=True))
    whole_error = sum(abs(v - exact(qc, o)) for v, o in zip(whole.values, observables, strict=True))
    assert cut_error < whole_error, (cut.values, whole.values)


def test_auto_keeps_a_circuit_whole_on_noiseless_resources(fleet):
    assert plan_cut(fleet, ansatz(4), ["ZZZZ"]).num_cuts == 0


def test_a_plan_generates_no_subexperiment_until_it_runs_and_then_the_ones_it_counted(fleet):
    """Planning describes the subexperiments without making them (issue 28: a 60-qubit plan within
    1 s); the circuits made when the plan runs are the ones the plan counted, priced and measured."""
    plan = plan_cut(fleet, ansatz(6), ["ZIIIIZ", "IIZZII"], shots=1000)
    assert not plan.generated
    assert "sampling overhead" in plan.explain() and sum(plan.placement.values()) == plan.num_circuits
    assert not plan.generated, "explaining a plan makes no circuit"
    tasks = plan.tasks()
    assert plan.generated and len(tasks) == plan.num_circuits
    assert {str(k): len(v) for k, v in plan.experiments.items()} == plan.subexperiments
    assert {str(k): v[0].num_qubits for k, v in plan.experiments.items()} == plan.subsystems
    squared = sum(float(c) ** 2 for c, _ in plan.coefficients)
    assert plan.expected_error == pytest.approx((squared * len(plan.experiments) / plan.shots) ** 0.5)
    for label, circuits in plan.experiments.items():  # each piece is priced as its most demanding circuit
        rep = plan.representatives[label]
        measured = max(sum(i.operation.name == "measure" for i in c.data) for c in circuits)
        assert rep.num_qubits == circuits[0].num_qubits
        assert sum(i.operation.name == "measure" for i in rep.data) >= measured


def test_a_pickled_plan_generates_the_same_subexperiments_in_the_same_order(fleet):
    """The journal keeps a cut task's plan pickled as its inputs; recovery reconstructs from the
    circuits and coefficients it generates again, so they must be the original ones."""
    import pickle

    plan = plan_cut(fleet, ansatz(6), ["ZIIIIZ", "XXIIII"], shots=1000)
    again = pickle.loads(pickle.dumps(plan))
    assert not again.generated and again.subexperiments == plan.subexperiments
    assert [list(map(str, c)) for c in again.coefficients] == [list(map(str, c)) for c in plan.coefficients]
    assert list(again.experiments) == list(plan.experiments)

    def instructions(circuit):  # what runs (QuantumCircuit's == also compares generated names)
        return [(i.operation.name, [float(p) for p in i.operation.params], [circuit.find_bit(b).index for b in i.qubits],
                 [circuit.find_bit(b).index for b in i.clbits]) for i in circuit.data]

    for label, circuits in plan.experiments.items():
        assert [instructions(c) for c in again.experiments[label]] == [instructions(c) for c in circuits]


@pytest.mark.usefixtures("clean_script")
def test_a_plan_prices_each_piece_once_times_its_count():
    """On a priced resource (the scripted plugin, 1 USD a task) the plan's price is one USD per
    subexperiment, and a quote of the task lists every subexperiment at that price."""
    from qtau_scripted.testing import host, pilot, resource

    with PilotComputeService(plugins=host(), execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot(pilot(resource("r", qubits=2, per_task=1.0, mid_circuit=True)))
        plan = plan_cut(pcs, ansatz(4), ["ZZII", "IIZZ"], shots=100, cut={"wire_cuts": False})
        assert plan.num_cuts >= 1 and not plan.generated
        assert plan.price == {"USD": pytest.approx(plan.num_circuits)}
        assert plan.placement == {"scripted:r": plan.num_circuits}
        quote = pcs.quote(QuantumTask(circuit=ansatz(4), observables=["ZZII", "IIZZ"], shots=100,
                                      cut={"wire_cuts": False}))
        assert len(quote.tasks) == plan.num_circuits and quote.totals == {"USD": pytest.approx(plan.num_circuits)}


def test_a_cut_task_collected_twice_has_the_same_values_and_error_bars(fleet):
    handle = fleet.submit_quantum_task(QuantumTask(circuit=ansatz(6), num_qubits=6, observables=["ZIIIIZ"], shots=2000))
    [first] = fleet.get_results([handle])
    [again] = fleet.get_results([handle])
    assert first.values == again.values
    assert first.metadata["standard_errors"] == again.metadata["standard_errors"]


@pytest.mark.usefixtures("clean_script")
def test_cancelling_a_cut_task_cancels_its_pieces():
    """Its pieces wait at a (scripted, in-process) provider; cancelling the task's one handle
    cancels each of them, and collecting it gives TaskCancelledError, not a partial value."""
    from qtau.errors import TaskCancelledError
    from qtau_scripted.testing import host, pilot, resource

    with PilotComputeService(plugins=host(), execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot(pilot(resource("q", qubits=2, remote=True, kind="qpu", job_delay_s=30, mid_circuit=True)))
        handle = pcs.submit_quantum_task(QuantumTask(circuit=ansatz(4), num_qubits=4, observables=["ZZII"], shots=100,
                                                     cut={"wire_cuts": False}))
        assert len(handle.parts) > 1
        pcs.cancel([handle])
        [value] = pcs.get_results([handle], timeout=60, return_exceptions=True)
        assert isinstance(value, TaskCancelledError)
        with pytest.raises(TaskCancelledError):
            pcs.get_results([handle], timeout=60)


@pytest.mark.timeout(120)
def test_a_plan_of_more_subexperiments_than_can_run_is_refused_before_they_are_enumerated(fleet):
    # Each cut multiplies the subexperiments by its QPD terms (6 per cut CNOT): a 6-qubit QFT on
    # 4-qubit pieces needs 10 cuts, 6**10 terms, whose enumeration alone filled 8 GB of memory
    # before planning could answer. A GHZ chain of 14 on 2-qubit pieces (6 cuts) made 326,592
    # circuits, which the plan offered to run.
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import QFTGate
    from qtau.cutting.subexperiments import MAX_CIRCUITS

    ghz = QuantumCircuit(14)
    ghz.h(0)
    for q in range(13):
        ghz.cx(q, q + 1)
    with pytest.raises(NoSuitableResourceError) as err:
        plan_cut(fleet, ghz, ["Z" + "I" * 12 + "Z"], cut={"max_width": 2})
    assert err.value.field == "cut" and "6 of them, make 326,592 subexperiment circuits" in str(err.value)
    assert f"{MAX_CIRCUITS:,}" in str(err.value) and "wider resources" in err.value.fix
    qft = QuantumCircuit(6)
    qft.append(QFTGate(6), range(6))
    with pytest.raises(NoSuitableResourceError, match="subexperiment circuits"):
        plan_cut(fleet, qft, ["IIIIIZ"])
    plan = plan_cut(fleet, ghz.copy().remove_final_measurements(inplace=False), ["Z" + "I" * 12 + "Z"])
    assert plan.num_circuits <= MAX_CIRCUITS  # pieces of 4 qubits: few cuts, and it is planned
