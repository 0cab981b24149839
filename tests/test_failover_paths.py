"""A circuit one resource's path cannot take runs on another that can; a Rust SDK's panic fails over.

A CircuitConversionError says that one resource's SDK reader or converter cannot take the
circuit, not that the circuit is wrong: Qiskit's OpenQASM 3 reader refuses `const` and loops that
index with their variable, which Braket's reader runs. Such a task goes on to its next placement
(the batch path too), the refusal stays in its attempts, and it does not cool the resource down
for other tasks. When no resource tried can read the circuit the task ends with one
CircuitConversionError naming each one's reason; a task pinned to one resource keeps that
converter's own error. Bad input (InvalidTaskError) still fails at once, with no other try.

Real Qiskit, Aer and Braket throughout, except the panic: pyo3's PanicException (a BaseException
Qiskit's transpiler raised on a circuit of `pow @` gates, not reliably) is raised by the scripted
test plugin, which mocks only that.
"""

from __future__ import annotations

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.errors import CircuitConversionError, InvalidTaskError
from qtau_test_services import local_service

pytest.importorskip("qtau_qiskit")
pytest.importorskip("qtau_braket")

#: rx(pi) through a `const`: always 1. Qiskit's reader: "ConstantDeclaration is not supported".
CONST = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nconst float theta = pi;\nqubit[1] q;\nbit[1] c;\nrx(theta) q[0];\nc[0] = measure q[0];\n'
#: x on every qubit by a loop indexing with its variable: always 111.
LOOP = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nbit[3] c;\nfor uint i in [0:2] { x q[i]; }\nc = measure q;\n'
BELL = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n'


@pytest.fixture(scope="module")
def pcs():
    service = local_service(("qiskit", "braket"), ("qiskit_local", "braket_local"))
    # Qiskit's simulators first, so that the Qiskit path is tried before Braket's.
    service.initialize_dreamer({"optimization_mode": "high_speed"})
    yield service
    service.close()


def _qiskit_first(pcs, text: str) -> QuantumTask:
    task = QuantumTask(circuit=text, shots=100)
    order = [p.resource.id for p in pcs.qdreamer.place(task)]
    if not order[0].startswith("qiskit:"):
        pytest.skip(f"QDREAMER put {order[0]} first here; the failover from Qiskit's reader is not exercised")
    return task


@pytest.mark.parametrize("text, counts", [(CONST, {"1": 100}), (LOOP, {"111": 100})], ids=["const", "loop"])
def test_a_program_qiskits_reader_refuses_runs_on_braket(pcs, text, counts):
    result = pcs.get_result(pcs.submit_quantum_task(_qiskit_first(pcs, text)), timeout=120)
    assert result.resource_id.startswith("braket:") and result.get_counts() == counts
    refused = [a for a in result.attempts if not a.ok]
    assert refused and all(a.error_type == "CircuitConversionError" and a.resource_id.startswith("qiskit:")
                           for a in refused)
    assert "not supported" in refused[0].message or "index" in refused[0].message


def test_a_conversion_refusal_does_not_cool_the_resource_down(pcs):
    pcs.get_result(pcs.submit_quantum_task(_qiskit_first(pcs, CONST)), timeout=120)
    rows = pcs.qdreamer.explain(QuantumTask(circuit=BELL, shots=100)).rows
    assert all(row.penalty == 1.0 for row in rows), [(r.resource_id, r.penalty) for r in rows]


def test_a_batch_member_its_first_resource_cannot_read_fails_over_and_the_rest_run(pcs):
    tasks = [QuantumTask(circuit=text, shots=100) for text in (BELL, CONST, BELL, LOOP)]
    results = pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=180)
    assert results[1].get_counts() == {"1": 100} and results[3].get_counts() == {"111": 100}
    for bell in (results[0], results[2]):
        assert set(bell.get_counts()) <= {"00", "11"} and sum(bell.get_counts().values()) == 100


@pytest.mark.parametrize("text, counts", [(CONST, {"1": 100}), (LOOP, {"111": 100})], ids=["const", "loop"])
def test_a_reader_outside_the_failover_order_still_gets_the_circuit(text, counts):
    """With max_attempts=1 the failover order held one Qiskit simulator, so a program that only
    Braket's reader takes was refused although braket_local was there (with every local simulator
    installed, the top three were Qiskit's and PennyLane's readers, all refusing `const`). A
    resource of each other conversion path follows the order, and a refusal runs nothing."""
    with local_service(("qiskit", "braket"), ("qiskit_local", "braket_local")) as pcs:
        pcs.initialize_dreamer({"optimization_mode": "high_speed", "max_attempts": 1})
        task = _qiskit_first(pcs, text)
        order = [p.resource.id for p in pcs.qdreamer.place(task)]
        assert len(order) == 2 and order[1] == "braket:local_sv", order
        result = pcs.get_result(pcs.submit_quantum_task(task), timeout=120)
        batch = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=text, shots=100) for _ in range(2)]),
                                timeout=120)
    assert result.resource_id == "braket:local_sv" and result.get_counts() == counts
    assert [a.error_type for a in result.attempts] == ["CircuitConversionError", ""]
    assert all(r.resource_id == "braket:local_sv" and r.get_counts() == counts for r in batch)


def test_other_readers_are_one_per_missing_path_and_none_when_a_resource_takes_the_circuit_as_it_is():
    from qtau.dreamer.core import other_readers

    paths = [("openqasm3", "qiskit"), ("openqasm3", "qiskit"), ("openqasm3", "pennylane_tape"),
             ("openqasm3", "braket"), ("openqasm3", "braket"), ("openqasm3", "qiskit", "braket")]
    scored = [(0.1 * i, 0, i, 0.0) for i in range(len(paths))]  # (units behind, in flight, index, wait)
    assert [item[2] for item in other_readers(paths, scored[:2], scored)] == [2, 3, 5]
    assert other_readers(paths, scored, scored) == []
    native = [("qiskit",), ("qiskit", "braket")]
    assert other_readers(native, [(0.0, 0, 0, 0.0)], [(0.0, 0, 0, 0.0), (1.0, 0, 1, 0.0)]) == []


def test_no_resource_that_reads_it_gives_one_conversion_error_naming_each():
    with local_service(("qiskit",), ("qiskit_local",)) as pcs:
        task = pcs.submit_quantum_task(QuantumTask(circuit=CONST, shots=10))
        with pytest.raises(CircuitConversionError) as caught:
            pcs.get_result(task, timeout=120)
    text = str(caught.value)
    assert "no resource tried" in text and "ConstantDeclaration" in text
    assert "qiskit:aer_simulator" in text and "qiskit:basic_simulator" in text
    assert caught.value.field == "circuit" and caught.value.fix


def test_a_batch_no_resource_reads_gives_each_member_the_error_naming_every_reason():
    """The batch path (`submit_quantum_tasks`) ends as one by one does: each member tried on both
    of Qiskit's simulators gets one CircuitConversionError naming both (its last resource's own
    error alone dropped the first's reason)."""
    with local_service(("qiskit",), ("qiskit_local",)) as pcs:
        handles = pcs.submit_quantum_tasks([QuantumTask(circuit=CONST, shots=10) for _ in range(2)])
        errors = pcs.get_results(handles, timeout=120, return_exceptions=True)
    for error in errors:
        assert isinstance(error, CircuitConversionError) and "no resource tried" in str(error)
        assert "qiskit:aer_simulator" in str(error) and "qiskit:basic_simulator" in str(error)


def test_a_pinned_resource_keeps_its_converters_own_error(pcs):
    task = pcs.submit_quantum_task(QuantumTask(circuit=CONST, shots=10, resource="qiskit:aer_simulator"))
    with pytest.raises(CircuitConversionError) as caught:
        pcs.get_result(task, timeout=120)
    assert "ConstantDeclaration" in str(caught.value) and "no resource tried" not in str(caught.value)


def test_bad_input_still_fails_at_once(pcs):
    """An OpenQASM 2 gate used but not defined is the circuit's own mistake: no resource is tried."""
    bad = 'OPENQASM 2.0;\nqreg q[1];\ncreg c[1];\nmagic q[0];\nmeasure q -> c;\n'
    with pytest.raises(InvalidTaskError):
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bad, shots=10)), timeout=60)


@pytest.mark.usefixtures("clean_script")
@pytest.mark.parametrize("engine", [ExecutionEngine.LOCAL])
def test_a_panicking_sdk_fails_over_to_the_next_resource(plugins, engine):
    from qtau_scripted.testing import pilot, resource
    from qtau_test_circuits import bell

    with PilotComputeService(execution_engine=engine, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(resource("panics", behaviour="panic", kind="simulator"),
                               resource("fine", kind="simulator", queue_wait_s=1)))
        pcs.initialize_dreamer({"optimization_mode": "high_speed"})
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=20)), timeout=60)
        assert result.resource_id.endswith("fine") and sum(result.get_counts().values()) == 20
        [panic] = [a for a in result.attempts if not a.ok]
        assert panic.resource_id.endswith("panics") and panic.error_type == "PanicException"


def test_a_plugin_failing_on_a_circuit_is_warned_once_not_at_every_ask(caplog):
    """Qiskit's summary fails on a loop indexing with its variable; a task asks for its summary
    several times (placement, conversion, the journal), and each failure was a warning on stderr.
    Every failure is still recorded (a declared format's error names it)."""
    import logging

    from qtau.plugins import PluginHost

    host = PluginHost(strict=False)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    with caplog.at_level(logging.WARNING, logger="qtau.plugins"):
        for _ in range(3):
            assert host.call("qtau_circuit_summary", circuit=LOOP, circuit_format="openqasm3") is None
    asked = [f for f in host.failures if f.stage == "qtau_circuit_summary"]
    warned = [r for r in caplog.records if "failed during qtau_circuit_summary" in r.getMessage()]
    assert len(asked) == 3 and len(warned) == 1, [r.getMessage() for r in warned]


def test_a_converter_that_panics_is_a_conversion_error_of_that_path():
    """A Rust SDK's panic inside a converter (pyo3's PanicException, no Exception) escaped the
    conversion as it was; it is that path's CircuitConversionError, so the task fails over. The
    panicking converter is the test plugin `qtau_hanging_plugin`'s (a mock of a panicking SDK)."""
    from qiskit import QuantumCircuit
    from qtau.circuits import Circuits
    from qtau.plugins import PluginHost

    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    host.register_module("hanging", "qtau_hanging_plugin")
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    with pytest.raises(CircuitConversionError, match="PanicException"):
        Circuits(host).convert(qc, "qiskit", ["panicfmt"])
