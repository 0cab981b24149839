"""Budgets and shot splitting on ExecutionEngine.RAY (a private local Ray): a split task is one
ObjectRef whose Result has every part; holds settle at the quoted price once Ray reports the task
done (the driver does not fetch results just to settle)."""

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.errors import BudgetExceededError
from qtau_scripted.testing import host, pilot, resource
from qtau_test_circuits import bell

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def pcs():
    assert not ray.is_initialized()
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR")
    service = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=host())
    service.create_pilot(pilot(resource("a", per_task=1.0), resource("b", per_task=1.0)))
    service.initialize_dreamer({"budget": {"USD": 5}})
    yield service
    service.close()
    ray.shutdown()


def test_split_task_is_one_object_ref_with_every_part_and_its_cost_is_spent(pcs):
    ref = pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=2000, split=True))
    assert isinstance(ref, ray.ObjectRef)
    result = ray.get(ref, timeout=180)
    assert sorted((p.resource_id, p.shots) for p in result.parts) == [("scripted:a", 1000), ("scripted:b", 1000)]
    assert sum(result.counts.values()) == 2000 and set(result.counts) <= {"00", "11"}
    pcs.wait_tasks([ref], timeout=60)  # delivers Ray's done-callbacks
    info = pcs.qdreamer.budget_info()["service"]
    assert info["spent"] == pytest.approx(2.0) and info["reserved"] == 0
    assert all(n == 0 for n in pcs.qdreamer.in_flight().values())


def test_over_budget_task_is_refused_before_ray_sees_it(pcs):
    with pytest.raises(BudgetExceededError):
        pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=10) for _ in range(4)])
    assert pcs.qdreamer.budget_info()["service"]["reserved"] == 0
