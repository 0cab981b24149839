"""The SamplerV2 executor on real local parts (fakes in local mode, Aer): ISA transpilation,
caching, batches as one sampler.run, register joining and bit order, the width check."""

import time

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.primitives.containers.sampler_pub_result import SamplerPubResult
from qtau.errors import InvalidTaskError
from qtau.executor import CircuitJob
from qtau_ibmq import backends
from qtau_ibmq.executor import create_executor


def executor(name, **config):
    res = backends.resources(f"ibmq_{name}", config)[0]
    return create_executor(res, config)


def jobs(*circuits, shots=500):
    return [CircuitJob(f"t{i}", c, "qiskit", shots) for i, c in enumerate(circuits)]


def test_logical_gates_run_on_an_ecr_device(bell):
    ex = executor("fake_brisbane", seed_simulator=3, seed_transpiler=3)
    isa = ex.isa(bell())
    assert {op for op in isa.count_ops()} <= {"ecr", "rz", "sx", "x", "measure", "barrier"}
    [out] = ex.result(ex.submit(jobs(bell())), timeout=120)
    assert out.counts["00"] + out.counts["11"] > 400
    assert isinstance(out.raw, SamplerPubResult)


def test_transpilation_is_cached_per_circuit_and_backend(bell):
    ex = executor("fake_sherbrooke", seed_transpiler=1)
    first = ex.isa(bell())
    started = time.perf_counter()
    again = ex.isa(bell())  # a new object with the same content
    assert again is first and time.perf_counter() - started < 0.05
    other = executor("fake_manila", seed_transpiler=1).isa(bell())
    assert other is not first


def test_circuits_transpiled_on_several_threads_at_once_are_each_laid_out_whole():
    """LOCAL runs chunks of a batch on several threads against one executor (docs/plugins.md:
    `run` must be thread-safe). The executor shared one preset pass manager per level, whose passes
    keep each run's property set on themselves: runs at once mixed their layouts, so a 5-qubit
    circuit came out placed on 4 qubits, or failed ('FullAncillaAllocation: The layout refers to a
    qubit that does not exist in circuit')."""
    import threading

    from qiskit.circuit.random import random_circuit

    ex = executor("fake_manila", seed_transpiler=3)
    wrong: list = []

    def transpile_many(thread: int) -> None:
        for i in range(50):
            width = 2 + (i + thread) % 4
            circuit = random_circuit(width, 8, max_operands=2, measure=True, seed=1000 * thread + i)
            try:
                placed = ex.isa(circuit).layout.initial_index_layout(filter_ancillas=True)
            except Exception as err:  # noqa: BLE001 - any failure is the finding
                wrong.append((width, repr(err)[:120]))
                continue
            if len(placed) != width or len(set(placed)) != width:
                wrong.append((width, placed))

    threads = [threading.Thread(target=transpile_many, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_batch_is_one_sampler_run_in_order(bell, x0):
    ex = executor("fake_manila", seed_simulator=1)
    outs = ex.result(ex.submit(jobs(x0(), bell(), x0(), shots=300)), timeout=60)
    assert len({o.metadata["job_id"] for o in outs}) == 1
    assert [max(o.counts, key=o.counts.get) for o in (outs[0], outs[2])] == ["001", "001"]
    assert all(sum(o.counts.values()) == 300 for o in outs)


def test_registers_join_with_the_first_register_rightmost():
    q = QuantumRegister(3)
    a, b = ClassicalRegister(1, "a"), ClassicalRegister(2, "b")
    qc = QuantumCircuit(q, a, b)
    qc.x(0)
    qc.x(2)
    qc.measure(0, a[0])
    qc.measure(1, b[0])
    qc.measure(2, b[1])
    ex = executor("qasm_simulator")
    [out] = ex.result(ex.submit(jobs(qc, shots=50)), timeout=60)
    assert out.counts == {"101": 50}  # Qiskit's legacy counts would read "10 1"


def test_unmeasured_circuits_get_measure_all():
    qc = QuantumCircuit(2)
    qc.x(1)
    ex = executor("qasm_simulator")
    [out] = ex.result(ex.submit(jobs(qc, shots=20)), timeout=60)
    assert out.counts == {"10": 20} and out.metadata["measure_all_added"]


def test_an_unmeasured_circuit_with_classical_bits_reads_a_bit_per_qubit():
    """`QuantumCircuit(2, 2)` with no measurement read `0010` (measure_all's register beside the
    two unused bits) here and `10` on PennyLane and Braket; its unused bits are left out."""
    qc = QuantumCircuit(2, 2)
    qc.x(1)
    ex = executor("qasm_simulator")
    [out] = ex.result(ex.submit(jobs(qc, shots=20)), timeout=60)
    assert out.counts == {"10": 20} and out.metadata["measure_all_added"]


def test_too_wide_circuit_fails_before_submission():
    qc = QuantumCircuit(6, 6)
    qc.h(range(6))
    qc.measure(range(6), range(6))
    ex = executor("fake_manila")
    with pytest.raises(InvalidTaskError) as info:
        ex.submit(jobs(qc))
    assert "num_qubits=6" in str(info.value) and "5 qubits" in str(info.value)


def test_fakes_run_in_process_and_devices_are_remote(bell):
    """Fakes are local executors (no queue to wait for); IBM devices go through core's tracker."""
    from qtau.executor import LocalExecutor, RemoteExecutor
    from qtau_ibmq.executor import RuntimeExecutor

    ex = executor("fake_manila")
    assert isinstance(ex, LocalExecutor) and not ex.resource.remote
    [out] = ex.run(jobs(bell()))
    assert sum(out.counts.values()) == 500
    assert issubclass(RuntimeExecutor, RemoteExecutor)


def test_bad_optimization_level_is_a_configuration_error():
    from qtau.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="optimization_level"):
        executor("fake_manila", optimization_level=7)
