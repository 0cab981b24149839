"""Refuse before allocating (issue 23, item 3): every local resource states its shot limit and the
memory its method needs; QDREAMER refuses a task over either, naming the field, the value, the
limit and the fix, and a circuit function wider than it declared is refused where it is built.
Real plugins and simulators on the LOCAL engine; no mocks. Big allocations are watched with
tracemalloc (numpy registers its buffers there) and the process's peak RSS."""

import resource
import tracemalloc

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau import resource_limits as limits
from qtau.errors import CircuitWidthError, ConfigurationError, NoSuitableResourceError
from qtau_test_circuits import ghz

LOCAL_EXECUTORS = ["qiskit_local", "braket_local", "braket_local_dm", "pennylane_default",
                   "pennylane_lightning", "ibmq_fake_manila", "ibmq_qasm_simulator"]
#: A peak far below any allocation these refusals prevent (10**9 shots: ~7.5 GiB of samples;
#: 34 qubits: 256 GiB of state), far above what building a circuit takes.
SMALL = 200 * 1024**2


def no_gates():
    """A circuit function QDREAMER cannot read before it runs: the task's num_qubits is its width."""


@pytest.fixture
def service():
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL)
    yield pcs
    pcs.cancel()


def pilot(pcs, executor, **quantum):
    return pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor, **quantum}})


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@pytest.mark.parametrize("bad", [0, -1, 1.5, "8G", True])
def test_a_pilot_memory_that_is_not_bytes_is_refused_at_create_pilot(service, bad):
    with pytest.raises(ConfigurationError) as info:
        pilot(service, "qiskit_local", memory=bad)
    assert info.value.field == "memory"


# -- every local resource states its limits ----------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", LOCAL_EXECUTORS)
def test_every_local_resource_states_shots_and_memory(service, executor):
    res = pilot(service, executor).resources
    for r in res:
        assert r.metadata["max_shots"] == limits.LOCAL_MAX_SHOTS
        assert r.metadata["memory_model"] in ("statevector", "density_matrix")
        assert r.metadata["max_memory_bytes"] == limits.host_memory()[0]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", LOCAL_EXECUTORS)
def test_a_billion_shots_is_refused_on_every_local_resource_before_allocating(service, executor):
    pilot(service, executor)
    tracemalloc.start()
    before = peak_rss()
    try:
        with pytest.raises(NoSuitableResourceError) as info:
            service.submit_quantum_task(QuantumTask(circuit=no_gates, num_qubits=2, gate_set=("h",),
                                                    shots=10**9))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < SMALL and peak_rss() - before < SMALL
    assert (info.value.field, info.value.value) == ("shots", 10**9)
    assert "shots=10000000" in info.value.fix
    assert all(f"maximum of {limits.LOCAL_MAX_SHOTS} shots" in why for why in info.value.rejections.values())


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", ["qiskit_local", "braket_local", "pennylane_default",
                                      "pennylane_lightning", "ibmq_fake_manila"])
def test_a_40_qubit_statevector_is_refused_with_bytes_needed_and_available(service, executor):
    pilot(service, executor)
    have = limits.host_memory()[0]
    with pytest.raises(NoSuitableResourceError) as info:
        service.submit_quantum_task(QuantumTask(circuit=no_gates, num_qubits=40, gate_set=("h",), shots=10))
    assert (info.value.field, info.value.value) == ("num_qubits", 40)
    for why in info.value.rejections.values():
        assert "num_qubits=40 needs at least 16.0 TiB (175921860" in why and f"({have} bytes)" in why


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", ["qiskit_local", "braket_local", "pennylane_default", "pennylane_lightning"])
def test_the_pilot_memory_setting_is_the_limit(service, executor):
    """27 qubits fit every one of these simulators' widths; 2 GiB of state does not fit 1 GiB."""
    pilot(service, executor, memory=2**30)
    with pytest.raises(NoSuitableResourceError) as info:
        service.submit_quantum_task(QuantumTask(circuit=no_gates, num_qubits=27, gate_set=("h",), shots=10))
    why = " ".join(info.value.rejections.values())
    assert "2.0 GiB" in why and "1.0 GiB (1073741824 bytes) of the pilot's memory setting" in why
    assert info.value.field == "num_qubits"


@pytest.mark.timeout(120)
def test_a_task_resource_config_memory_is_a_limit(service):
    pilot(service, "qiskit_local", method="statevector")
    task = QuantumTask(circuit=no_gates, num_qubits=20, gate_set=("h",), shots=10,
                       resource_config={"memory": 2**20})
    with pytest.raises(NoSuitableResourceError) as info:
        service.submit_quantum_task(task)
    assert (info.value.field, info.value.value) == ("resource_config.memory", 2**20)
    assert str(16 * 2**20) in info.value.fix


# -- valid big tasks still run -----------------------------------------------------------------


@pytest.mark.timeout(300)
@pytest.mark.parametrize("method", ["matrix_product_state", "stabilizer"])
def test_30_qubits_on_mps_and_stabilizer_are_accepted_and_run(service, method):
    pilot(service, "qiskit_local", method=method, memory=2**30)  # 16 GiB as a statevector
    result = service.get_result(service.submit_quantum_task(QuantumTask(circuit=ghz(30), shots=20)), timeout=240)
    assert set(result.counts) <= {"0" * 30, "1" * 30} and sum(result.counts.values()) == 20


@pytest.mark.timeout(300)
def test_20_qubits_as_a_statevector_is_accepted_and_runs(service):
    pilot(service, "qiskit_local", method="statevector")
    result = service.get_result(service.submit_quantum_task(QuantumTask(circuit=ghz(20), shots=20)), timeout=240)
    assert set(result.counts) <= {"0" * 20, "1" * 20} and sum(result.counts.values()) == 20


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", LOCAL_EXECUTORS)
def test_limits_accept_a_20_qubit_ten_million_shot_plan(service, executor):
    """Ranking only (no run): the largest shot count and a 20-qubit state are within every limit."""
    pilot(service, executor)
    task = QuantumTask(circuit=no_gates, num_qubits=min(20, *(r.num_qubits for r in service.get_pilots()[0].resources)),
                       gate_set=("h",), shots=limits.LOCAL_MAX_SHOTS)
    rows = service.qdreamer.explain(task).rows
    assert rows and all(row.feasible for row in rows), [row.reason for row in rows]


# -- the width a function really returned --------------------------------------------------------


def qiskit_34():
    return ghz(34)


def braket_34():
    from braket.circuits import Circuit

    circuit = Circuit()
    for q in range(34):
        circuit.h(q)
    return circuit


def qnode_34():
    import pennylane as qml

    @qml.qnode(qml.device("default.qubit", wires=34))
    def circuit():
        for q in range(34):
            qml.Hadamard(q)
        return qml.counts()
    return circuit


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("executor", "build"), [
    ("qiskit_local", qiskit_34), ("braket_local", braket_34), ("braket_local", qiskit_34),
    ("pennylane_default", qnode_34), ("pennylane_lightning", qnode_34), ("pennylane_default", braket_34),
    ("ibmq_fake_manila", qiskit_34), ("ibmq_qasm_simulator", qiskit_34),
])
def test_a_function_declaring_2_qubits_that_returns_34_is_refused_before_allocating(service, executor, build):
    pilot(service, executor)
    handle = service.submit_quantum_task(QuantumTask(circuit=build, num_qubits=2, shots=10))
    tracemalloc.start()
    before = peak_rss()
    try:
        with pytest.raises(CircuitWidthError) as info:
            service.get_result(handle, timeout=60)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < SMALL and peak_rss() - before < SMALL
    assert (info.value.field, info.value.value) == ("num_qubits", 34)
    assert "num_qubits=2" in str(info.value) and "num_qubits=34" in info.value.fix
