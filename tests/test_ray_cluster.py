"""QTAU on a multi-node Ray cluster (`ray.cluster_utils.Cluster`: real raylets, one machine).

The head node lacks a plugin the service uses (its folder is not on the head's PYTHONPATH); worker
nodes have it. Circuit functions record the node id they ran on, so each test sees where tasks went.
"""

import os
import tempfile
import time

import pytest
from qtau import PilotComputeService, QuantumTask
from qtau.engines.ray_join import start_timed_out
from qtau.engines.ray_shares import (
    FOREIGN_SPAN_S,
    FOREIGN_VIEWS,
    ForeignWork,
    shares,
    split,
    usable_cpus,
)
from qtau.errors import BackendUnavailableError
from qtau.plugins import PluginHost
from ray_nodes_helpers import PLUGIN_MODULE, node_recording_bell, recorded_nodes, write_plugin

ray = pytest.importorskip("ray")
cluster_utils = pytest.importorskip("ray.cluster_utils")
pytestmark = [pytest.mark.ray, pytest.mark.slow]

QISKIT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}}


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory):
    return str(write_plugin(tmp_path_factory.mktemp("nodeonly")))


@pytest.fixture(scope="module")
def cluster(plugin_dir):
    assert not ray.is_initialized()
    # The plugin's folder added to the driver's own path (a worktree's sources stay first).
    with_plugin = {"PYTHONPATH": os.pathsep.join(p for p in (plugin_dir, os.environ.get("PYTHONPATH")) if p)}
    for attempt in range(2):
        # Ray waits a fixed 30 s for each raylet it starts: on a loaded machine that can time out.
        # The nodes are this fixture's own, so a failed start is shut down and tried once more.
        c = cluster_utils.Cluster()
        try:
            c.add_node(num_cpus=1)
            workers = [c.add_node(num_cpus=1, env_vars=with_plugin) for _ in range(2)]
            c.wait_for_nodes()
            break
        except Exception as err:
            c.shutdown()
            if attempt or not start_timed_out(err):
                raise
    c.with_plugin = with_plugin
    c.first_workers = workers
    yield c
    if ray.is_initialized():
        ray.shutdown()
    c.shutdown()


@pytest.fixture(scope="module")
def pcs(cluster, plugin_dir):
    import sys

    sys.path.insert(0, plugin_dir)  # the driver has the plugin too; only the head node lacks it
    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    host.register_module("nodeonly", PLUGIN_MODULE)
    service = PilotComputeService(execution_engine="ray", plugins=host, ray_address=cluster.address)
    service.create_pilot(QISKIT)
    yield service
    service.close()
    sys.path.remove(plugin_dir)


def node_ids(cluster, nodes) -> set[str]:
    return {n.node_id for n in nodes}


def run_recorded(pcs, n: int, sleep_s: float) -> list[str]:
    record = tempfile.mkdtemp(prefix="qtau-nodes-")
    fn = node_recording_bell(record, sleep_s)
    refs = [pcs.submit_quantum_task(QuantumTask(circuit=fn, num_qubits=2, shots=20)) for _ in range(n)]
    results = pcs.get_results(refs, timeout=180)
    assert [sum(r.counts.values()) for r in results] == [20] * n
    return recorded_nodes(record)


def test_tasks_spread_over_nodes_and_avoid_the_node_without_the_plugin(cluster, pcs):
    head = node_ids(cluster, [cluster.head_node])
    workers = node_ids(cluster, cluster.first_workers)
    ran_on = run_recorded(pcs, 12, 0.3)
    assert set(ran_on) == workers, "tasks use every node with the plugin"
    assert not set(ran_on) & head, "no task goes to the node without the plugin"
    report = pcs.engine.node_report()
    assert len(report) == 1 and next(iter(head))[:12] in report[0] and PLUGIN_MODULE in report[0]


def test_a_coalesced_burst_is_split_over_the_nodes_in_proportion_to_their_free_cpus(cluster, pcs):
    """A loop of 40 node-bound submits is gathered into batches; each batch is cut into parts, one
    per plugin-checked node (two one-CPU workers: halves), so both nodes run the burst side by side.

    The burst's own direct tasks and the parts that just ended show in Ray's lagging view of free
    CPUs; they are this service's work, never foreign, so a loaded machine (another xdist worker,
    a CPU burner) cannot make one node look full (it did in 2 of 8 full-suite runs before).
    benchmarks/cluster.py measures the split's speed-up."""
    workers = node_ids(cluster, cluster.first_workers)
    ran_on = run_recorded(pcs, 40, 0.1)
    stats = pcs._coalescer.stats()
    assert any(size > 1 for size in stats["batches"]), "the burst was coalesced"
    assert set(stats["per_node"]) == workers, "batch parts went to both workers, never the head"
    assert head_not_used(cluster, ran_on)
    assert min(ran_on.count(w) for w in workers) >= 40 // 4, "each one-CPU worker ran about half"


def test_shares_even_out_each_nodes_queue_per_usable_cpu():
    assert shares(10, {"a": 1.0, "b": 1.0}, {}) == {"a": 5, "b": 5}, "idle nodes: halves"
    assert shares(8, {"a": 3.0, "b": 1.0}, {}) == {"a": 6, "b": 2}, "in proportion to the CPUs"
    assert shares(35, {"a": 1.0, "b": 1.0}, {"a": 1}) == {"a": 17, "b": 18}, "a's queue counts"
    assert shares(1, {"a": 1.0, "b": 1.0}, {"a": 1}) == {"b": 1}, "one member: the shorter queue"
    assert shares(1, {"a": 1.0, "b": 2.0}, {}) == {"b": 1}, "a tie: the node with more CPUs"
    assert shares(3, {"a": 1.0, "b": 1.0}, {"a": 40}) == {"b": 3}, "a node with a long queue waits"
    assert shares(4, {"a": 0.0, "b": 1.0}, {}) == {"b": 4}, "a node without usable CPUs gets none"
    assert shares(0, {"a": 1.0}, {}) == {} and shares(3, {}, {}) == {}


def test_split_cuts_consecutive_parts_of_the_given_sizes():
    members = list(range(10))
    assert split(members, {"a": 4, "b": 6}) == [("a", [0, 1, 2, 3]), ("b", [4, 5, 6, 7, 8, 9])]
    assert split(members, {}) == []


def test_usable_cpus_are_a_nodes_cpus_less_foreign_work_and_all_cpus_when_every_node_seems_held():
    assert usable_cpus({"a": 2.0, "b": 1.0}, {"a": 1.0}) == {"a": 1.0, "b": 1.0}
    assert usable_cpus({"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 1.0}) == {"a": 1.0, "b": 1.0}
    assert usable_cpus({"a": 1.0, "head": 0.0}, {}) == {"a": 1.0, "head": 0.0}


def views(foreign: ForeignWork, count: int, free: dict, ours_here: dict, anywhere: float = 0.0,
          start: float = 0.0, step: float = 0.5) -> float:
    """Add `count` identical views of two one-CPU nodes, `step` s apart; the time of the last."""
    at = start
    for i in range(count):
        at = start + i * step
        foreign.add(at, {"a": 1.0, "b": 1.0}, free, ours_here, anywhere)
    return at


def test_this_services_own_tasks_are_never_foreign_work():
    """The failure the split had: Ray's view kept showing node a busy with this service's own
    direct tasks, a counted it as held by other work, and the burst went to b alone."""
    own_direct = ForeignWork()
    at = views(own_direct, FOREIGN_VIEWS + 2, {"a": 0.0, "b": 1.0}, {}, anywhere=2.0)
    assert own_direct.cpus(at) == {"a": 0.0, "b": 0.0}, "a's busy CPU may be a direct task of ours"
    own_part = ForeignWork()
    at = views(own_part, FOREIGN_VIEWS + 2, {"a": 0.0, "b": 0.0}, {"a": 1.0, "b": 3.0})
    assert own_part.cpus(at) == {"a": 0.0, "b": 0.0}, "batch parts of ours (three queued on b)"


def test_foreign_work_counts_once_it_lasts_over_several_recent_views():
    lasting = ForeignWork()
    at = views(lasting, FOREIGN_VIEWS, {"a": 0.0, "b": 1.0}, {})
    assert at >= FOREIGN_SPAN_S and lasting.cpus(at) == {"a": 1.0, "b": 0.0}
    assert lasting.cpus(at + 60) == {}, "views a minute old say nothing of now"
    few = ForeignWork()
    at = views(few, FOREIGN_VIEWS - 1, {"a": 0.0, "b": 1.0}, {})
    assert few.cpus(at) == {}, "too few views to tell lasting work from Ray's lag"
    close = ForeignWork()
    at = views(close, FOREIGN_VIEWS, {"a": 0.0, "b": 1.0}, {}, step=0.01)
    assert close.cpus(at) == {}, "views a moment apart see the same lag"
    flicker = ForeignWork()
    at = views(flicker, FOREIGN_VIEWS - 1, {"a": 0.0, "b": 1.0}, {})
    flicker.add(at + 0.5, {"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 1.0}, {}, 0.0)
    assert flicker.cpus(at + 0.5) == {"a": 0.0, "b": 0.0}, "one view with a free: not held"


def test_a_node_added_mid_run_is_used_and_one_without_the_plugin_is_not(cluster, pcs, plugin_dir):
    run_recorded(pcs, 2, 0.0)
    added = cluster.add_node(num_cpus=1, env_vars=cluster.with_plugin)
    bare = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    added_id, bare_id = next(iter(node_ids(cluster, [added]))), next(iter(node_ids(cluster, [bare])))
    deadline = time.monotonic() + 90
    ran_on: list[str] = []
    while added_id not in ran_on and time.monotonic() < deadline:
        ran_on += run_recorded(pcs, 9, 0.3)
    assert added_id in ran_on, "the node that joined is checked and then used"
    assert bare_id not in ran_on and head_not_used(cluster, ran_on)
    while not any(bare_id[:12] in line for line in pcs.engine.node_report()) and time.monotonic() < deadline:
        pcs.engine.placement.refresh(force=True)  # what each submission does every couple of seconds
        time.sleep(0.2)
    assert any(bare_id[:12] in line and PLUGIN_MODULE in line for line in pcs.engine.node_report())
    cluster.remove_node(bare)


def head_not_used(cluster, ran_on) -> bool:
    return not set(ran_on) & node_ids(cluster, [cluster.head_node])


def test_a_node_dying_during_the_pilot_check_is_a_specific_error_within_seconds(cluster, plugin_dir):
    import sys

    # A fresh node whose plugin import takes 60 s: its check is still running when it dies.
    slow = cluster.add_node(num_cpus=1, env_vars={**cluster.with_plugin, "QTAU_TEST_SLOW_IMPORT_S": "60"})
    cluster.wait_for_nodes()
    slow_id = next(iter(node_ids(cluster, [slow])))
    sys.path.insert(0, plugin_dir)
    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    host.register_module("nodeonly", PLUGIN_MODULE)
    service = PilotComputeService(execution_engine="ray", plugins=host, ray_address=cluster.address)
    try:
        service.create_pilot(QISKIT)
        time.sleep(1.0)
        cluster.remove_node(slow)
        started = time.monotonic()
        with pytest.raises(BackendUnavailableError) as info:
            service.check_plugins(timeout=120)
        assert time.monotonic() - started < 30
        assert slow_id[:12] in str(info.value) and "plugin check" in str(info.value) and "ray status" in str(info.value)
        # The next call goes on with the nodes that remain.
        ref = service.submit_quantum_task(QuantumTask(circuit=node_recording_bell(tempfile.mkdtemp()), num_qubits=2, shots=10))
        assert service.get_result(ref, timeout=120).shots == 10
    finally:
        service.close()
        sys.path.remove(plugin_dir)
