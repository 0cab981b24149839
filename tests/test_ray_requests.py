"""A task's `resource_config` on ExecutionEngine.RAY: every submit path asks Ray for it, and a
request is refused when no single node could place it (a task runs on one node).

The per-node check is tested on its own with node resource tables, and on a real two-node
`ray.cluster_utils.Cluster` (two raylets of 2 CPUs each on this machine): the cluster has 4 CPUs
in all but no node has 4, so a task asking for 4 is refused where it is given.
"""

import pytest
from qtau import PilotComputeService, QuantumTask
from qtau.errors import InvalidTaskError
from qtau.plugins import PluginHost
from qtau.resource_request import check_nodes

TWO_SMALL_NODES = [{"CPU": 2.0, "memory": 4e9}, {"CPU": 2.0, "memory": 4e9}]
QISKIT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}}


@pytest.mark.parametrize("request_", [{"num_cpus": 2}, {"num_cpus": 0.5, "memory": 3 * 10**9}, {"num_qpus": 1},
                                      {"num_cpus": 1, "num_gpus": 1}])
def test_a_request_one_node_meets_is_accepted(request_):
    nodes = [{"CPU": 2.0, "memory": 4e9}, {"CPU": 1.0, "GPU": 1.0, "memory": 4e9}]
    check_nodes(request_, nodes)


@pytest.mark.parametrize("request_, key", [({"num_cpus": 4}, "num_cpus"), ({"num_gpus": 1}, "num_gpus"),
                                           ({"memory": 6 * 10**9}, "memory")])
def test_a_request_past_every_single_node_is_refused_though_the_cluster_has_it_in_all(request_, key):
    with pytest.raises(InvalidTaskError, match="largest node") as info:
        check_nodes(request_, TWO_SMALL_NODES)
    assert info.value.field == f"resource_config.{key}" and info.value.value == request_[key]


def test_a_request_whose_parts_sit_on_different_nodes_is_refused():
    """4 CPUs on one node, the GPU on another: no node has both together."""
    nodes = [{"CPU": 4.0}, {"CPU": 1.0, "GPU": 1.0}]
    with pytest.raises(InvalidTaskError, match="no node of the Ray cluster has them all") as info:
        check_nodes({"num_cpus": 4, "num_gpus": 1}, nodes)
    assert info.value.field == "resource_config.num_cpus"


def _x0_holding(cpus: float):
    """A circuit function that builds X on qubit 0 only inside a Ray task holding `cpus` CPUs."""

    def x0():
        import ray as worker_ray
        from qiskit import QuantumCircuit

        held = worker_ray.get_runtime_context().get_assigned_resources().get("CPU")
        if held != cpus:
            raise RuntimeError(f"the Ray task holds {held} CPUs, not the {cpus} asked for")
        qc = QuantumCircuit(1, 1)
        qc.x(0)
        qc.measure(0, 0)
        return qc

    return x0


@pytest.fixture(scope="module")
def two_nodes():
    ray = pytest.importorskip("ray")
    cluster_utils = pytest.importorskip("ray.cluster_utils")
    assert not ray.is_initialized()
    cluster = cluster_utils.Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()
    yield cluster
    if ray.is_initialized():
        ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="module")
def pcs(two_nodes):
    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    service = PilotComputeService(execution_engine="ray", plugins=host, ray_address=two_nodes.address)
    service.create_pilot(QISKIT)
    yield service
    service.close()


@pytest.mark.ray
@pytest.mark.slow
def test_four_cpus_on_two_nodes_of_two_is_refused_where_the_task_is_given(pcs):
    for submit in (pcs.submit_quantum_task, lambda t: pcs.submit_quantum_tasks([t])):
        with pytest.raises(InvalidTaskError, match="largest node") as info:
            submit(QuantumTask(circuit=_x0_holding(4.0), num_qubits=1, resource_config={"num_cpus": 4}))
        assert info.value.field == "resource_config.num_cpus"


@pytest.mark.ray
@pytest.mark.slow
def test_every_submit_path_asks_ray_for_the_request(pcs):
    """Alone, in a burst (one batch per chunk) and mixed with tasks that ask for nothing: each task
    that asked for 2 CPUs runs inside a Ray task holding 2 (its circuit function checks)."""
    def asking(cpus):
        return QuantumTask(circuit=_x0_holding(cpus), num_qubits=1, shots=5,
                           resource_config={"num_cpus": cpus} if cpus != 1.0 else {})

    alone = pcs.submit_quantum_task(asking(2.0))
    burst = pcs.submit_quantum_tasks([asking(2.0), asking(1.0), asking(2.0), asking(1.0)])
    results = pcs.get_results([alone, *burst], timeout=300)
    assert [r.counts for r in results] == [{"1": 5}] * 5


@pytest.mark.ray
@pytest.mark.slow
def test_a_split_task_runs_inside_a_ray_task_holding_its_request(pcs):
    """A second pilot of the same simulator makes two interchangeable resources; both parts of the
    split run inside the one Ray task of the split, which holds the 2 CPUs the task asked for."""
    pcs.create_pilot({**QISKIT, "name": "second"})
    task = QuantumTask(circuit=_x0_holding(2.0), num_qubits=1, shots=2000, split=True,
                       resource_config={"num_cpus": 2})
    result = pcs.get_result(pcs.submit_quantum_task(task), timeout=300)
    assert result.counts == {"1": 2000} and len(result.parts) == 2
