"""Load balancing and cross-backend scheduling: in-flight work feeds expected wait, so a burst
spreads over equally good resources; placement follows provider queues; pilots of different
executors (the real `scripted` plugin and qiskit_local's Aer) share one stream of tasks.
"""

import time
from collections import Counter

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau_scripted import state
from qtau_scripted.testing import pilot, resource, wait_idle
from qtau_test_circuits import bell

SIM = {"kind": "simulator"}
QISKIT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}}


#: The scripted plugin's script (tests/conftest.py::clean_script) is empty before and after each test.
pytestmark = pytest.mark.usefixtures("clean_script")



def where(results) -> Counter:
    return Counter(r.resource_id for r in results)


def test_a_burst_spreads_evenly_over_equal_resources(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(*(resource(f"q{i}", queue_wait_s=5) for i in range(4))))
        tasks = [QuantumTask(circuit=bell(), shots=20) for _ in range(40)]
        results = pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=60)
        assert where(results) == {f"scripted:q{i}": 10 for i in range(4)}
        assert all(set(r.counts) <= {"00", "11"} for r in results), [(r.resource_id, r.counts, r.conversion_path) for r in results if set(r.counts) - {"00", "11"}]
        assert set(wait_idle(pcs).values()) == {0}


def test_in_flight_work_shows_in_expected_wait(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(resource("a", queue_wait_s=5), resource("b", queue_wait_s=5)))
        pcs.qdreamer.task_started("scripted:a", 3)
        rows = {r.resource_id: r for r in pcs.qdreamer.explain(QuantumTask(circuit=bell())).rows}
        run = 2.0 + 1e-3 * 1000  # the QPU run-time default for 1000 shots
        assert rows["scripted:a"].wait_s == pytest.approx(5 + 3 * run + run)
        assert rows["scripted:a"].in_flight == 3
        assert rows["scripted:b"].wait_s == pytest.approx(5 + run)
        for _ in range(3):
            pcs.qdreamer.task_finished("scripted:a")


def test_placement_follows_provider_queues(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(resource("a", queue_wait_s=10), resource("b", queue_wait_s=10)))
        pcs.initialize_dreamer({"optimization_mode": "high_speed", "cache_ttl_seconds": 0.05})
        state.script("scripted:a", queue_wait_s=300)
        time.sleep(0.06)  # the cached queue lengths expire
        first = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=10) for _ in range(5)]))
        assert set(where(first)) == {"scripted:b"}
        state.script("scripted:a", queue_wait_s=0)
        state.script("scripted:b", queue_wait_s=300)
        time.sleep(0.06)
        second = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=10) for _ in range(5)]))
        assert set(where(second)) == {"scripted:a"}


def test_queue_changes_are_seen_only_after_the_ttl(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(resource("a", queue_wait_s=0), resource("b", queue_wait_s=10)))
        assert pcs.qdreamer.explain(QuantumTask(circuit=bell())).chosen.resource_id == "scripted:a"
        state.script("scripted:a", queue_wait_s=300)
        assert pcs.qdreamer.explain(QuantumTask(circuit=bell())).chosen.resource_id == "scripted:a"  # cached
        pcs.qdreamer.clear_cache()
        assert pcs.qdreamer.explain(QuantumTask(circuit=bell())).chosen.resource_id == "scripted:b"


def test_scripted_and_qiskit_pilots_share_a_stream_by_speed(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(QISKIT)
        # A scripted simulator as fast as Aer by QDREAMER's estimate (2 ms + 1 us per shot).
        pcs.create_pilot(pilot(resource("sim", **SIM)))
        pcs.initialize_dreamer({"optimization_mode": "high_speed"})
        assert {r.id for r in pcs.qdreamer.resources} == {
            "qiskit:aer_simulator", "qiskit:basic_simulator", "scripted:sim"}
        tasks = [QuantumTask(circuit=bell(), shots=100) for _ in range(30)]
        results = pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=120)
        used = where(results)
        assert abs(used["qiskit:aer_simulator"] - used["scripted:sim"]) <= 1
        assert used["qiskit:aer_simulator"] + used["scripted:sim"] >= 25
        assert sum(used.values()) == 30 and state.runs["scripted:sim"] == used["scripted:sim"]
        assert all(set(r.counts) <= {"00", "11"} and sum(r.counts.values()) == 100 for r in results)
        assert {r.executor for r in results} >= {"qiskit_local", "scripted"}
        assert set(wait_idle(pcs).values()) == {0}


def test_scripted_and_qiskit_pilots_by_fidelity_and_cost(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(QISKIT)
        pcs.create_pilot(pilot(resource("qpu", qubits=127, two_qubit_error=0.02, readout_error=0.02,
                                        per_task=0.3, per_shot=0.00035)))
        pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
        results = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=50) for _ in range(6)]))
        assert set(where(results)) <= {"qiskit:aer_simulator", "qiskit:basic_simulator"}
        assert state.runs["scripted:qpu"] == 0
        # A circuit wider than any local simulator can only go to the scripted device.
        from qiskit import QuantumCircuit

        wide = QuantumCircuit(40)
        wide.h(0)
        wide.measure_all()
        table = pcs.qdreamer.explain(QuantumTask(circuit=wide, policy="low_cost"))
        assert table.chosen.resource_id == "scripted:qpu"
        assert table.chosen.cost == pytest.approx(0.3 + 0.00035 * 1000)
        rejected = {r.resource_id: r.reason for r in table.rows if not r.feasible}
        assert rejected.keys() == {"qiskit:aer_simulator", "qiskit:basic_simulator"}
        assert rejected["qiskit:aer_simulator"].startswith("needs 40 qubits, has 30; num_qubits=40 needs at least")
        assert rejected["qiskit:basic_simulator"].startswith("needs 40 qubits, has 24; num_qubits=40 needs")
