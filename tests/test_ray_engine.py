"""ExecutionEngine.RAY with real Aer on a private local Ray: ObjectRefs, hybrid use, errors, ownership."""

import sys
import time

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.errors import (
    ConfigurationError,
    InvalidTaskError,
    PluginError,
    TaskCancelledError,
    TaskTimeoutError,
)
from qtau.plugins import PluginHost
from qtau_test_circuits import bell, x_on

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray

QISKIT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}}


@pytest.fixture(scope="module")
def user_ray():
    """A Ray the *user* started: QTAU must join it and must not shut it down."""
    assert not ray.is_initialized()
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def pcs(user_ray, qiskit_host):
    service = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=qiskit_host)
    service.create_pilot(QISKIT)
    yield service
    service.cancel()
    assert ray.is_initialized(), "closing the service must not stop a Ray it did not start"


def test_handle_is_an_object_ref_usable_with_ray_get(pcs):
    ref = pcs.submit_quantum_task(QuantumTask(circuit=x_on(0), shots=100))
    assert isinstance(ref, ray.ObjectRef)
    assert ray.get(ref, timeout=120).counts == {"001": 100}


def test_object_ref_feeds_other_remote_functions(pcs):
    @ray.remote
    def parity_zero_fraction(result):
        return sum(n for k, n in result.counts.items() if k.count("1") % 2 == 0) / result.shots

    ref = pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=200))
    assert ray.get(parity_zero_fraction.remote(ref), timeout=120) == 1.0


def test_batch_gives_one_object_ref_per_task(pcs):
    tasks = [QuantumTask(circuit=x_on(i % 3), shots=10) for i in range(12)]
    refs = pcs.submit_quantum_tasks(tasks)
    assert len(refs) == 12 and all(isinstance(r, ray.ObjectRef) for r in refs)
    results = pcs.get_results(refs, timeout=120)
    assert [r.task_id for r in results] == [t.task_id for t in tasks]
    assert [next(iter(r.counts)) for r in results] == [["001", "010", "100"][i % 3] for i in range(12)]


def test_qiskit_circuits_travel_to_the_workers_in_their_compact_form(pcs):
    """The driver packs each payload for Ray with the plugins' compact forms (qtau_qiskit.compact:
    a third of Qiskit's pickling time for a Bell circuit), and the workers run the circuit rebuilt
    from it: registers, measurement targets and barriers as they were."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

    a, ca, cb = QuantumRegister(3, "a"), ClassicalRegister(2, "ca"), ClassicalRegister(1, "cb")
    qc = QuantumCircuit(a, ca, cb)
    qc.x(a[0])
    qc.x(a[2])
    qc.barrier()
    qc.measure(a[0], cb[0])
    qc.measure(a[2], ca[0])
    task = QuantumTask(circuit=qc, shots=30)
    assert b"qtau_qiskit.compact" in pcs.engine.pack(task)
    [result] = pcs.get_results(pcs.submit_quantum_tasks([task]), timeout=120)
    assert result.counts == {"101": 30}


def test_a_batch_larger_than_a_ray_task_holds_runs_as_several_in_order(pcs, monkeypatch):
    """A chunk of more than RAY_BATCH_MAX members goes as several Ray tasks (one Ray task with
    tens of thousands of returns slowed 100k batched tasks to 0.6x of 10k); results keep order."""
    import qtau.engines.ray as ray_engine

    monkeypatch.setattr(ray_engine, "RAY_BATCH_MAX", 5)
    tasks = [QuantumTask(circuit=x_on(i % 3), shots=10) for i in range(12)]
    refs = pcs.submit_quantum_tasks(tasks)
    results = pcs.get_results(refs, timeout=120)
    assert [r.task_id for r in results] == [t.task_id for t in tasks]
    assert [next(iter(r.counts)) for r in results] == [["001", "010", "100"][i % 3] for i in range(12)]
    ray_tasks = {ref.task_id() for ref in refs}
    assert len(ray_tasks) >= 3, "12 members, at most 5 per Ray task"


def test_in_parts_submits_consecutive_parts_and_keeps_one_handle_per_member():
    from qtau.engines.ray import RAY_BATCH_MAX, in_parts
    from qtau.payloads import BatchPayload

    seen = []

    def submit(part, n):
        seen.append(n)
        return [(len(seen), m) for m in part.members]

    members = tuple(range(2 * RAY_BATCH_MAX + 3))
    handles = in_parts(BatchPayload(members), submit)
    assert seen == [RAY_BATCH_MAX, RAY_BATCH_MAX, 3]
    assert [m for _, m in handles] == list(members) and handles[-1][0] == 3
    seen.clear()
    assert in_parts(BatchPayload((7,)), submit) == [(1, 7)] and seen == [1]


def test_task_errors_come_back_as_qtau_errors(pcs):
    ref = pcs.submit_quantum_task(QuantumTask(circuit=lambda: None, num_qubits=2))
    with pytest.raises(InvalidTaskError, match="returned None"):
        pcs.get_result(ref, timeout=120)
    with pytest.raises(InvalidTaskError):  # Ray's error type also derives from the task's error
        ray.get(ref, timeout=120)
    assert pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=5)), timeout=120).shots == 5


def test_in_flight_accounting_follows_ray_completions(pcs):
    refs = [pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)) for _ in range(10)]
    pcs.wait_tasks(refs, timeout=120)
    deadline = time.time() + 10
    while any(pcs.qdreamer.in_flight().values()) and time.time() < deadline:
        time.sleep(0.05)
    assert set(pcs.qdreamer.in_flight().values()) == {0}


def test_pilot_start_names_plugins_missing_on_ray_nodes(user_ray, tmp_path, monkeypatch):
    (tmp_path / "qtau_driver_only.py").write_text("from qtau import hookimpl\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    host.register_module("driver_only", "qtau_driver_only")
    sys.modules.pop("qtau_driver_only", None)
    service = PilotComputeService(execution_engine="ray", plugins=host)
    service.create_pilot(QISKIT)  # start-up does not wait for the check...
    started = time.monotonic()
    with pytest.raises(PluginError) as info:  # ...but no task goes to a node without the plugin
        service.submit_quantum_task(QuantumTask(circuit=bell(), shots=5))
    assert time.monotonic() - started < 60
    assert "driver_only" in str(info.value) and "every node" in str(info.value) and "no Ray node" in str(info.value)
    with pytest.raises(PluginError):
        service.check_plugins()
    with pytest.raises(PluginError):  # it stays an error, not a hang or a silent pass
        service.submit_quantum_task(QuantumTask(circuit=bell(), shots=5))
    service.close()


def test_a_ray_the_service_started_is_disconnected_on_close(qiskit_host, user_ray):
    # The module's Ray belongs to the user; run this service against its own fresh local Ray.
    ray.shutdown()
    try:
        service = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=qiskit_host)
        service.create_pilot(QISKIT)
        assert service.engine.started_ray and ray.is_initialized()
        assert service.get_result(service.submit_quantum_task(QuantumTask(circuit=bell(), shots=5)), timeout=120).shots == 5
        kept = service.submit_quantum_task(QuantumTask(circuit=bell(), shots=5))
        service.wait_tasks([kept], timeout=120)
        service.close()
        assert not ray.is_initialized()
        # Its results went with that Ray. Asking for them says so, and starts no Ray: ray.get and
        # ray.wait start a fresh local Ray by themselves (seconds, every CPU), then failed with
        # Ray's "owner is unknown" ValueError (bare from wait_tasks).
        for ask in (lambda: service.get_results([kept], timeout=30), lambda: service.wait_tasks([kept], timeout=30)):
            with pytest.raises(TaskCancelledError, match="closed") as info:
                ask()
            assert info.value.fix and "before" in info.value.fix
        assert not ray.is_initialized(), "a closed service's handles must not start a Ray"
    finally:
        if not ray.is_initialized():
            ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR")


def test_closing_one_service_keeps_the_ray_it_started_for_a_second_service(qiskit_host, user_ray):
    """Two services in one process share the Ray the first one started. Closing the first used to
    shut that Ray down under the second: its handles then failed with Ray's "owner is unknown", its
    next `ray.get` started a fresh local Ray by itself (never stopped), and its next submission
    raised Ray's bare ValueError."""
    ray.shutdown()
    first = second = None
    try:
        first = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=qiskit_host)
        first.create_pilot(QISKIT)
        second = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=qiskit_host)
        second.create_pilot(QISKIT)
        assert first.engine.started_ray and not second.engine.started_ray
        early = second.submit_quantum_task(QuantumTask(circuit=x_on(1), shots=5))
        second.wait_tasks([early], timeout=120)
        first.close()
        assert ray.is_initialized(), "the second service still uses the Ray the first one started"
        assert second.get_result(early, timeout=60).counts == {"010": 5}
        late = second.submit_quantum_task(QuantumTask(circuit=x_on(2), shots=5))
        assert second.get_result(late, timeout=120).counts == {"100": 5}
        second.close()
        assert not ray.is_initialized(), "the last service to close disconnects the Ray QTAU started"
        with pytest.raises(TaskCancelledError, match="closed"):
            first.get_results([early], timeout=30)
        assert not ray.is_initialized(), "a closed service's handles must not start a Ray"
    finally:
        for service in (first, second):
            if service is not None:
                service.close()
        if not ray.is_initialized():
            ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR")


def test_get_results_gives_up_within_its_timeout(pcs):
    """RAY's get_results waited `timeout` for all values at once, then, on the timeout, `timeout`
    again handle by handle: get_results(timeout=3) returned after 6 s."""
    def _x0_after_a_while():
        """Builds X on qubit 0 after 10 s: a task still running when a short timeout ends."""
        import time as worker_time

        from qiskit import QuantumCircuit

        worker_time.sleep(10)
        qc = QuantumCircuit(1, 1)
        qc.x(0)
        qc.measure(0, 0)
        return qc

    handles = pcs.submit_quantum_tasks([QuantumTask(circuit=_x0_after_a_while, num_qubits=1, shots=5)
                                        for _ in range(2)])
    try:
        for return_exceptions in (True, False):
            started = time.monotonic()
            if return_exceptions:
                outcome = pcs.get_results(handles, timeout=3, return_exceptions=True)
                assert [type(v).__name__ for v in outcome] == ["TaskTimeoutError"] * 2, outcome
                # each names the caller's timeout (not what was left of it: 2.99999..., then 0.0004)
                assert [(v.value, "within 3 s" in str(v)) for v in outcome] == [(3, True)] * 2
            else:
                with pytest.raises(TaskTimeoutError):
                    pcs.get_results(handles, timeout=3)
            assert time.monotonic() - started < 4.5, "get_results overran its timeout"
    finally:
        pcs.cancel(handles)


def test_a_ray_address_other_than_the_initialised_ray_is_refused(qiskit_host, user_ray):
    """With Ray already initialised (here the user's local Ray), a `ray_address` naming another
    cluster was silently ignored: the tasks ran on the local Ray, not on the cluster named."""
    connected = ray.get_runtime_context().gcs_address
    port = int(connected.rpartition(":")[2])
    other = f"127.0.0.1:{port + 1 if port < 65535 else port - 1}"
    service = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=qiskit_host, ray_address=other)
    with pytest.raises(ConfigurationError) as info:
        service.create_pilot(QISKIT)
    assert info.value.field == "ray_address" and info.value.value == other
    assert connected in str(info.value) and "ray.shutdown()" in info.value.fix
    assert ray.is_initialized(), "the user's Ray is left as it is"
    service.close()
    same = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=qiskit_host, ray_address=connected)
    same.create_pilot(QISKIT)  # the address of the Ray already initialised: reused
    assert same.get_result(same.submit_quantum_task(QuantumTask(circuit=x_on(0), shots=5)), timeout=120).shots == 5
    same.close()
    assert ray.is_initialized()


def test_batch_chunks_of_one_task_give_results_not_lists(pcs):
    refs = pcs.submit_quantum_tasks([QuantumTask(circuit=x_on(i), shots=10) for i in range(3)])
    results = [ray.get(r, timeout=120) for r in refs]
    assert [r.counts for r in results] == [{"001": 10}, {"010": 10}, {"100": 10}]


def test_payloads_ship_local_and_main_module_functions():
    """The fast C-pickled payload falls back to cloudpickle where workers could not import a function."""
    import pickle as std_pickle

    from qtau.engines.ray import pack

    main_fn = type(lambda: 0)(compile("lambda: 1", "<main>", "eval").co_consts[0], {"__name__": "__main__"})
    main_fn.__module__ = "__main__"
    blob = pack({"circuit": main_fn})
    assert std_pickle.loads(blob)["circuit"]() == 1
    assert std_pickle.loads(pack({"circuit": lambda: 2}))["circuit"]() == 2
    assert std_pickle.loads(pack({"circuit": "OPENQASM 2.0;"})) == {"circuit": "OPENQASM 2.0;"}


def test_classical_functions_run_as_ray_tasks(pcs):
    handle = pcs.submit_task(pow, 2, 10)
    assert isinstance(handle, ray.ObjectRef) and ray.get(handle, timeout=60) == 1024


def test_resource_config_becomes_the_ray_request_and_the_cluster_is_asked_first(pcs):
    def _x0_checking_cpus():
        """Builds X on qubit 0 only inside a Ray task holding the 2 CPUs the task asked for."""
        import ray as worker_ray
        from qiskit import QuantumCircuit

        held = worker_ray.get_runtime_context().get_assigned_resources().get("CPU")
        if held != 2.0:
            raise RuntimeError(f"the Ray task holds {held} CPUs, not the 2 asked for")
        qc = QuantumCircuit(1, 1)
        qc.x(0)
        qc.measure(0, 0)
        return qc

    task = QuantumTask(circuit=_x0_checking_cpus, num_qubits=1, shots=5,
                       resource_config={"num_qpus": 1, "num_cpus": 2, "num_gpus": 0, "memory": None})
    [result] = pcs.get_results([pcs.submit_quantum_task(task)])
    assert result.counts == {"1": 5}
    for key, value, have in (("num_gpus", 1, "0 GPUs"), ("num_cpus", 3, "2 CPUs")):
        with pytest.raises(InvalidTaskError, match=f"the Ray cluster has {have}") as info:
            pcs.submit_quantum_task(QuantumTask(circuit=bell(), resource_config={key: value}))
        assert info.value.field == f"resource_config.{key}"


def test_a_task_with_observables_runs_as_ray_tasks_and_comes_back_as_one_result(pcs):
    pytest.importorskip("qiskit_addon_cutting")
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp, Statevector

    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.ry(0.7, 2)
    handle = pcs.submit_quantum_task(QuantumTask(circuit=qc, num_qubits=3, observables=["IZZ", "XII"], shots=4000))
    result = pcs.get_result(handle, timeout=120)
    for value, error, label in zip(result.values, result.metadata["standard_errors"], ["IZZ", "XII"], strict=True):
        assert abs(value - Statevector(qc).expectation_value(SparsePauliOp(label)).real) < 4 * error + 0.01
    pcs.wait_tasks([handle])  # a composite handle waits like any other
