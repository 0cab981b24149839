"""PilotComputeService on the LOCAL engine with real Aer: the API, and every bad input of issue 2."""

import time

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.errors import (
    ConfigurationError,
    InvalidTaskError,
    NoSuitableResourceError,
    QtauError,
    TaskTimeoutError,
    UnknownExecutorError,
)
from qtau.packing import pack, unpack
from qtau_test_circuits import bell, x_on

QISKIT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}}


@pytest.fixture
def pcs(qiskit_host):
    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=qiskit_host)
    service.create_pilot(QISKIT)
    service.initialize_dreamer({"optimization_mode": "high_speed"})
    yield service
    service.cancel()


def test_bell_through_qdreamer(pcs):
    ref = pcs.submit_quantum_task(QuantumTask(circuit=bell(), num_qubits=2, gate_set=["h", "cnot"]))
    pcs.wait_tasks([ref], timeout=60)
    [result] = pcs.get_results([ref])
    assert set(result.get_counts()) == {"00", "11"} and result.shots == 1000
    assert result.resource_id == "qiskit:aer_simulator"
    assert result.timings.finished_at >= result.timings.started_at >= result.timings.submitted_at - 1


@pytest.mark.parametrize("qubit,expected", [(0, "001"), (1, "010"), (2, "100")])
def test_one_bit_order(pcs, qubit, expected):
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=x_on(qubit), shots=50)))
    assert result.counts == {expected: 50}


def test_results_by_task_id_and_pilot_state(pcs):
    task = QuantumTask(circuit=bell(), shots=10)
    pcs.submit_quantum_task(task)
    assert pcs.get_result(task.task_id).task_id == task.task_id
    assert [p.get_state() for p in pcs.get_pilots()] == ["RUNNING"]
    assert set(pcs.quantum_resources) == {"qiskit:aer_simulator", "qiskit:basic_simulator"}


def test_batch_runs_in_order_with_per_task_handles(pcs):
    tasks = [QuantumTask(circuit=x_on(i % 3), shots=20) for i in range(30)]
    results = pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=120)
    assert [r.task_id for r in results] == [t.task_id for t in tasks]
    assert [next(iter(r.counts)) for r in results] == [["001", "010", "100"][i % 3] for i in range(30)]


@pytest.mark.parametrize(
    "description,field",
    [
        ("not a dict", "pilot_compute_description"),
        ({"resource_type": "quantum"}, "quantum.executor"),
        ({"resource_type": "quantum", "quantum": {}}, "quantum.executor"),
        ({"resource_type": "quantum", "quantum": {"executor": 7}}, "quantum.executor"),
        ({"resource_type": "gpu", "quantum": {"executor": "qiskit_local"}}, "resource_type"),
        ({"quantum": {"executor": "qiskit_local", "method": "quantum_magic"}}, "quantum.method"),
        ({"quantum": {"executor": "qiskit_local", "noise": {"depolarizing_1q": 2}}}, "quantum.noise.depolarizing_1q"),
    ],
)
def test_invalid_descriptions_name_the_field(pcs, description, field):
    with pytest.raises(ConfigurationError) as info:
        pcs.create_pilot(description)
    assert info.value.field == field and info.value.fix


def test_unknown_executor_names_the_package(pcs):
    with pytest.raises(UnknownExecutorError) as info:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "ibmq_brisbane"}})
    assert "qiskit_local" in str(info.value) and "pip install qtau-ibmq" in str(info.value)


@pytest.mark.parametrize("config,field", [
    ({"optimization_mode": "fastest"}, "optimization_mode"),
    ({"weights": {"speed": -1}}, "weights"),
    ({"max_attempts": 0}, "max_attempts"),
    ({"cache_ttl": 5}, "cache_ttl"),
])
def test_invalid_dreamer_config_lists_valid_values(pcs, config, field):
    with pytest.raises(ConfigurationError) as info:
        pcs.initialize_dreamer(config)
    assert info.value.field == field


def test_circuit_function_with_args(pcs):
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=x_on, args=(2,), num_qubits=3, shots=10)))
    assert result.counts == {"100": 10}


@pytest.mark.parametrize("factory,match", [(lambda: None, "returned None"), (lambda: 1 / 0, "ZeroDivisionError")])
def test_bad_circuit_functions_fail_alone(pcs, factory, match):
    bad = pcs.submit_quantum_task(QuantumTask(circuit=factory, num_qubits=2))
    good = pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10))
    with pytest.raises(InvalidTaskError, match=match):
        pcs.get_result(bad, timeout=60)
    assert sum(pcs.get_result(good, timeout=60).counts.values()) == 10
    [err, ok] = pcs.get_results([bad, good], return_exceptions=True)
    assert isinstance(err, InvalidTaskError) and ok.shots == 10


def test_circuit_function_without_width_is_rejected_up_front(pcs):
    with pytest.raises(InvalidTaskError) as info:
        pcs.submit_quantum_task(QuantumTask(circuit=bell))
    assert info.value.field == "num_qubits"


def test_unsupported_circuit_object(pcs):
    with pytest.raises(InvalidTaskError, match="unsupported circuit object of type builtins.dict"):
        pcs.submit_quantum_task(QuantumTask(circuit={"h": 0}))
    with pytest.raises(InvalidTaskError, match="OpenQASM"):
        pcs.submit_quantum_task(QuantumTask(circuit="h q[0];"))


def test_too_many_qubits_says_why_each_candidate_was_rejected(pcs):
    with pytest.raises(NoSuitableResourceError) as info:
        pcs.submit_quantum_task(QuantumTask(circuit=bell, num_qubits=40, gate_set=["h"]))
    why = info.value.rejections
    assert set(why) == {"qiskit:aer_simulator", "qiskit:basic_simulator"}
    assert why["qiskit:aer_simulator"].startswith("needs 40 qubits, has 30; ")
    assert why["qiskit:basic_simulator"].startswith("needs 40 qubits, has 24; ")
    # ... and what the state would need in memory (tests/test_resource_limits.py checks the bytes).
    assert all("as a statevector" in reason for reason in why.values())


def test_a_bad_batch_member_fails_alone(pcs):
    refs = pcs.submit_quantum_tasks([
        QuantumTask(circuit=bell(), shots=10),
        QuantumTask(circuit=lambda: None, num_qubits=2),
        QuantumTask(circuit=x_on(0), shots=10),
    ])
    good1, bad, good2 = pcs.get_results(refs, return_exceptions=True)
    assert isinstance(bad, InvalidTaskError)
    assert sum(good1.counts.values()) == 10 and good2.counts == {"001": 10}


def test_wait_timeout_is_an_error_and_the_service_keeps_serving(pcs):
    def slow():
        time.sleep(1.5)
        return bell()

    slow_ref = pcs.submit_quantum_task(QuantumTask(circuit=slow, num_qubits=2, shots=10))
    with pytest.raises(TaskTimeoutError) as info:
        pcs.wait_tasks([slow_ref], timeout=0.1)
    assert "keep running" in str(info.value)
    fast = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=30)
    assert fast.shots == 10
    assert pcs.get_result(slow_ref, timeout=30).shots == 10


def test_in_flight_returns_to_zero(pcs):
    refs = pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=10) for _ in range(20)])
    pcs.wait_tasks(refs, timeout=60)
    deadline = time.time() + 5
    while any(pcs.qdreamer.in_flight().values()) and time.time() < deadline:
        time.sleep(0.01)
    assert set(pcs.qdreamer.in_flight().values()) == {0}


def test_cancelled_service_refuses_new_work(qiskit_host):
    pcs = PilotComputeService(plugins=qiskit_host)
    pcs.create_pilot(QISKIT)
    pcs.cancel()
    assert pcs.get_pilots()[0].get_state() == "CANCELED"
    with pytest.raises(QtauError, match="cancelled"):
        pcs.submit_quantum_task(QuantumTask(circuit=bell()))


def test_noise_model_from_config_shows_in_counts_and_ranking(qiskit_host):
    noisy = {"quantum": {"executor": "qiskit_local", "noise": {"depolarizing_2q": 0.2, "readout": 0.05}, "seed_simulator": 7}}
    with PilotComputeService(plugins=qiskit_host) as pcs:
        pcs.create_pilot(noisy)
        pcs.create_pilot({"quantum": {"executor": "qiskit_local", "backend": "basic_simulator"}})
        pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
        table = pcs.qdreamer.explain(QuantumTask(circuit=bell()))
        by_id = {row.resource_id: row for row in table.rows}
        assert by_id["qiskit:aer_simulator_noisy"].fidelity == pytest.approx(0.8 * 0.95**2)
        assert table.chosen.resource_id == "qiskit:basic_simulator"
        ref = pcs.submit_quantum_task(QuantumTask(circuit=bell(), policy={"speed": 1}))
        counts = pcs.get_result(ref).counts
        assert pcs.get_result(ref).resource_id == "qiskit:aer_simulator_noisy"
        assert counts.get("01", 0) + counts.get("10", 0) > 20


def test_an_unplaceable_task_in_a_batch_submits_nothing_and_leaks_no_in_flight(pcs):
    with pytest.raises(NoSuitableResourceError):
        pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=10),
                                  QuantumTask(circuit=bell, num_qubits=99)])
    assert set(pcs.qdreamer.in_flight().values()) == {0}


def test_task_ids_resolve_for_recent_tasks_only(qiskit_host):
    with PilotComputeService(plugins=qiskit_host, task_id_memory=2) as pcs:
        pcs.create_pilot(QISKIT)
        tasks = [QuantumTask(circuit=bell(), shots=5) for _ in range(3)]
        handles = [pcs.submit_quantum_task(t) for t in tasks]
        assert pcs.get_result(tasks[2].task_id).shots == 5
        assert pcs.get_result(handles[0]).shots == 5  # a handle always works
        with pytest.raises(InvalidTaskError, match="last 2 tasks"):
            pcs.get_result(tasks[0].task_id)


def test_reinitialising_qdreamer_keeps_in_flight_accounting(qiskit_host):
    import threading

    gate = threading.Event()

    def held():
        gate.wait(30)
        return bell()

    with PilotComputeService(plugins=qiskit_host) as pcs:
        pcs.create_pilot(QISKIT)
        refs = [pcs.submit_quantum_task(QuantumTask(circuit=held, num_qubits=2, shots=5)) for _ in range(3)]
        pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
        assert sum(pcs.qdreamer.in_flight().values()) == 3
        gate.set()
        pcs.wait_tasks(refs, timeout=60)
        deadline = time.time() + 5
        while any(pcs.qdreamer.in_flight().values()) and time.time() < deadline:
            time.sleep(0.01)
        assert set(pcs.qdreamer.in_flight().values()) == {0}


def test_classical_functions_run_on_the_engine_too(pcs):
    """Pilot-Quantum's submit_task: plain Python work beside the quantum tasks."""
    handle = pcs.submit_task(sum, [1, 2, 3], task_name="classical")
    assert pcs.get_results([handle]) == [6]
    details = pcs.get_pilots()[0].get_details()
    assert details["executor"] == "qiskit_local" and details["state"] == "RUNNING"
    assert set(details["resources"]) == {"qiskit:aer_simulator", "qiskit:basic_simulator"}


def test_a_token_in_a_pilot_description_never_shows(qiskit_host, caplog):
    import logging
    import pickle

    token = "ibm-" + "7" * 44
    with caplog.at_level(logging.DEBUG), PilotComputeService(plugins=qiskit_host) as pcs:
        pilot = pcs.create_pilot({**QISKIT, "ibmqx_token": token, "aws_secret_access_key": "aws-" + "8" * 36})
        assert pilot.config["ibmqx_token"].reveal() == token  # the plugin can still use it
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=5)))
        shown = [repr(pilot), str(pilot.config), repr(pcs.get_pilots()), str(pcs.qdreamer.explain(QuantumTask(circuit=bell()))),
                 repr(result), str(pcs.qdreamer.get_cache_info()), caplog.text]
        with pytest.raises(ConfigurationError) as info:
            pcs.create_pilot({"quantum": {"executor": "qiskit_local", "method": token}})
        shown.append(str(info.value))
    assert all(token not in text and "8" * 36 not in text for text in shown)
    assert token.encode() not in pickle.dumps(pilot.config)  # a plain pickle withholds the value
    assert token in unpack(pack(pilot.config))["ibmqx_token"].reveal()  # QTAU's transport keeps it
