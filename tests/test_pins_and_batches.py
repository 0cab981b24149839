"""Pinned tasks, per-task batches, and the correctness bugs of issue 10 (content-keyed caches,
distinct resources per pilot)."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit
from qtau.errors import InvalidTaskError, NoSuitableResourceError
from qtau.service import PilotComputeService
from qtau.types import QuantumTask
from qtau_scripted import state
from qtau_scripted.testing import host, pilot, resource


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


#: The scripted plugin's script (tests/conftest.py::clean_script) is empty before and after each test.
pytestmark = pytest.mark.usefixtures("clean_script")


@pytest.fixture
def pcs():
    service = PilotComputeService(plugins=host())
    yield service
    service.close()


def test_pin_by_resource_id_executor_and_pilot(pcs):
    first = pcs.create_pilot(pilot(resource("a"), resource("b", one_qubit_error=0.2), name="lab"))
    pcs.create_pilot({"quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}, "name": "aer"})
    pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
    def run(**pin):
        return pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), **pin)), timeout=60)
    assert run(resource="scripted:b").resource_id == "scripted:b"
    assert run(resource="qiskit_local").resource_id == "qiskit:aer_simulator"
    assert run(resource=first).resource_id.startswith("scripted:")
    assert run(resource="aer").resource_id == "qiskit:aer_simulator"
    assert run(resource_config={"resource": "scripted:a"}).resource_id == "scripted:a"


def test_pinned_task_fails_over_only_among_its_matches(pcs):
    pcs.create_pilot(pilot(resource("bad", behaviour="fail"), resource("good", one_qubit_error=0.3)))
    pcs.create_pilot({"quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}})
    pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), resource="scripted")), timeout=60)
    assert [a.resource_id for a in result.attempts] == ["scripted:bad", "scripted:good"]


def test_a_pin_holds_after_provider_reports_are_refreshed(pcs):
    """A plan made for a pinned task is reused after a status refresh (only queues changed); it
    was rebuilt on every candidate instead of the pinned ones, so the task pinned to the second
    resource ran on the first (a paid QPU pinned away from, in the Braket case that found it)
    and `explain` raised a bare IndexError."""
    pcs.create_pilot(pilot(resource("paid", remote=True, kind="qpu", per_task=1.0), resource("b", kind="simulator")))
    task = QuantumTask(circuit=bell(), resource="scripted:b")
    for _ in range(3):
        assert [row.resource_id for row in pcs.qdreamer.explain(task).rows] == ["scripted:b"]
        assert pcs.get_result(pcs.submit_quantum_task(task), timeout=60).resource_id == "scripted:b"
        pcs.qdreamer.clear_cache()  # the next decision reads fresh reports: same resources, new queues


def test_pin_matching_nothing_lists_what_exists(pcs):
    pcs.create_pilot(pilot(resource("a"), name="lab"))
    with pytest.raises(NoSuitableResourceError) as info:
        pcs.submit_quantum_task(QuantumTask(circuit=bell(), resource="braket_sv1"))
    text = str(info.value)
    assert "'braket_sv1'" in text and "scripted:a" in text and "lab" in text


def test_unknown_resource_config_key_is_named():
    with pytest.raises(InvalidTaskError, match="resource_config has an unknown key 'resorce'") as info:
        QuantumTask(circuit=bell(), resource_config={"resorce": "x"})
    assert "did you mean 'resource'" in str(info.value)


def test_batch_members_keep_their_own_cost_and_placements(pcs):
    pcs.create_pilot(pilot(resource("priced", per_shot=0.001)))
    tasks = [QuantumTask(circuit=bell(), shots=100), QuantumTask(circuit=bell(), shots=10_000)]
    small, big = pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=60)
    assert small.cost == pytest.approx(0.1) and big.cost == pytest.approx(10.0)
    assert sum(big.counts.values()) == 10_000


def test_failed_batch_fails_over_as_a_batch(pcs):
    pcs.create_pilot(pilot(resource("bad", behaviour="fail"), resource("good", one_qubit_error=0.3)))
    pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
    pcs.batch_chunks = 1
    results = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=bell()) for _ in range(6)]), timeout=60)
    assert all([a.resource_id for a in r.attempts] == ["scripted:bad", "scripted:good"] for r in results)
    assert state.runs["scripted:good"] == 6 and state.runs["scripted:bad"] == 0


def test_batch_results_go_to_their_own_tasks_after_a_bad_member(pcs):
    """A member whose input is bad fails alone; the others' results are matched by job, not position."""
    pcs.create_pilot({"quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}})
    pcs.batch_chunks = 1

    def broken():
        raise RuntimeError("no circuit")

    def x_on(q):
        qc = QuantumCircuit(3, 3)
        qc.x(q)
        qc.measure(range(3), range(3))
        return qc

    tasks = [QuantumTask(circuit=broken, num_qubits=3)] + [QuantumTask(circuit=x_on(q)) for q in (0, 1, 2)]
    results = pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=60, return_exceptions=True)
    assert isinstance(results[0], InvalidTaskError)
    assert [r.get_counts() for r in results[1:]] == [{"001": 1000}, {"010": 1000}, {"100": 1000}]


def test_a_circuit_changed_after_submission_runs_as_it_is_now():
    pcs = PilotComputeService(plugins=host("qiskit", "braket"))
    pcs.create_pilot({"quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}})
    pcs.create_pilot({"quantum": {"executor": "braket_local"}})
    circuit = QuantumCircuit(3, 3)
    circuit.x(1)
    circuit.measure(range(3), range(3))
    for target in ("qiskit_local", "braket_local"):  # no conversion, and a converted (cached) path
        assert pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=circuit, resource=target))).counts == {"010": 1000}
    changed = QuantumCircuit(3, 3)
    changed.x(1)
    changed.x(0)
    circuit.data.insert(1, changed.data[1])
    for target in ("qiskit_local", "braket_local"):
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=circuit, resource=target)))
        assert result.counts == {"011": 1000}, target
    pcs.close()


def test_two_pilots_on_one_simulator_are_two_resources(pcs):
    clean = pcs.create_pilot({"quantum": {"executor": "qiskit_local", "backend": "aer_simulator",
                                          "noise": {"depolarizing_2q": 0.001}}})
    noisy = pcs.create_pilot({"quantum": {"executor": "qiskit_local", "backend": "aer_simulator",
                                          "noise": {"depolarizing_2q": 0.3}}})
    [a], [b] = clean.resources, noisy.resources
    assert b.id == f"{a.id}@{noisy.name}", "the second pilot's resource is another resource"
    pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
    rows = {r.resource_id: r for r in pcs.qdreamer.explain(QuantumTask(circuit=bell())).rows}
    assert rows[a.id].fidelity > rows[b.id].fidelity
    assert pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell()))).resource_id == a.id


def test_a_pinned_task_is_ranked_among_its_matches_after_a_status_refresh():
    """After the provider reports expire and come back the same but for their queues, QDREAMER
    reuses its plans with the new queues; a pinned task's plan was given every candidate instead
    of the pinned ones, so its explanation raised IndexError (also through mitigation="auto") and
    its rows named the first pilot's resource where the pinned one was meant."""
    import time

    with PilotComputeService(execution_engine="local") as service:
        service.create_pilot({"quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}, "name": "a"})
        service.create_pilot({"quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}, "name": "b"})
        service.initialize_dreamer({"cache_ttl_seconds": 0.2})
        task = QuantumTask(circuit=bell(), shots=50, resource="b")
        before = service.qdreamer.explain(task)
        time.sleep(0.4)  # every report expires: the next decision rebuilds the snapshot
        after = service.qdreamer.explain(task)
        assert [row.resource_id for row in after.rows] == [row.resource_id for row in before.rows]
        assert after.chosen.resource_id == "qiskit:aer_simulator@b"
        time.sleep(0.4)
        result = service.get_result(service.submit_quantum_task(QuantumTask(circuit=bell(), shots=50,
                                                                            resource="b", mitigation="auto")))
        assert result.resource_id == "qiskit:aer_simulator@b"
