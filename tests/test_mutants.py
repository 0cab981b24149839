"""Tests that fail on the six one-line mutations that survived the whole suite (issue 11, item 8).

Each sits exactly where a mutation changes behaviour, and none depends on the machine's core
count (batches are chunked explicitly, batch payloads run in-process):
- a device exactly as wide as the circuit is feasible (`<` -> `<=` in the qubit filter);
- a price exactly at `max_cost` is feasible (`>` -> `>=` in the cost filter);
- batch results go to their own tasks after a bad first member (matched by job, not position);
- an attempt's message from a non-QTAU exception is redacted;
- a burst to one resource is split into `batch_chunks` backend calls (one for a serial resource);
- the conversion path search ranks by total cost, not the last step's.
"""

from __future__ import annotations

import itertools
import sys
import textwrap
import time

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.circuits import Circuits, ConversionGraph, missing_path_hint
from qtau.errors import InvalidTaskError, NoSuitableResourceError
from qtau.path_hints import NOT_LOADED
from qtau.payloads import BatchPayload, Placement, TaskFailure, TaskPayload
from qtau.plugins import PluginHost
from qtau.secrets import MASK, Secret
from qtau.types import Converter
from qtau.worker import run_batch, run_task
from qtau_scripted import state
from qtau_scripted.testing import pilot, resource
from qtau_test_circuits import bell, x_on

#: The scripted plugin's script (tests/conftest.py::clean_script) is empty before and after each test.
pytestmark = pytest.mark.usefixtures("clean_script")



def _service(plugins, *resources):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    pcs.create_pilot(pilot(*resources))
    return pcs


# -- filter boundaries ----------------------------------------------------------------------------

def test_a_device_exactly_as_wide_as_the_circuit_is_feasible(plugins):
    with _service(plugins, resource("exact", qubits=2), resource("narrow", qubits=1)) as pcs:
        rows = {row.resource_id: row for row in pcs.qdreamer.explain(QuantumTask(circuit=bell())).rows}
        assert rows["scripted:exact"].feasible, rows["scripted:exact"].reason
        assert not rows["scripted:narrow"].feasible and "needs 2 qubits, has 1" in rows["scripted:narrow"].reason
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=30)))
        assert result.resource_id == "scripted:exact" and sum(result.counts.values()) == 30


def test_a_price_exactly_at_max_cost_is_feasible(plugins):
    # Both cost exactly 0.6 for 100 shots: 0.5 + 100 x 0.001, and 0.6 per task.
    with _service(plugins, resource("at", per_task=0.5, per_shot=0.001), resource("also_at", per_task=0.6)) as pcs:
        task = QuantumTask(circuit=bell(), shots=100, max_cost=0.6)
        rows = {row.resource_id: row for row in pcs.qdreamer.explain(task).rows}
        assert rows["scripted:at"].feasible, rows["scripted:at"].reason
        assert rows["scripted:also_at"].feasible, rows["scripted:also_at"].reason
        cheaper = QuantumTask(circuit=bell(), shots=100, max_cost=0.5999)
        rows = {row.resource_id: row for row in pcs.qdreamer.explain(cheaper).rows}
        assert not rows["scripted:at"].feasible and "over max_cost" in rows["scripted:at"].reason


# -- batches -------------------------------------------------------------------------------------

def _broken_factory():
    raise RuntimeError("this circuit function is broken on purpose")


def test_batch_results_follow_their_tasks_after_a_bad_first_member(plugins):
    [res] = plugins.resources("scripted", {"executor": "scripted", "resources": [resource("a", qubits=3)]})
    config = {"executor": "scripted", "resources": [resource("a", qubits=3)]}
    tasks = (QuantumTask(circuit=_broken_factory, num_qubits=3, shots=8),
             QuantumTask(circuit=x_on(0), shots=8), QuantumTask(circuit=x_on(1), shots=8),
             QuantumTask(circuit=_broken_factory, num_qubits=3, shots=8), QuantumTask(circuit=x_on(2), shots=8))
    out = run_batch(BatchPayload(tuple(TaskPayload(plugins.spec(), t, (Placement(res, config),), time.time())
                                       for t in tasks)))
    assert isinstance(out[0], TaskFailure) and out[0].task_id == tasks[0].task_id
    assert isinstance(out[3], TaskFailure) and out[3].task_id == tasks[3].task_id
    assert [out[i].task_id for i in (1, 2, 4)] == [tasks[i].task_id for i in (1, 2, 4)]
    assert [out[i].counts for i in (1, 2, 4)] == [{"001": 8}, {"010": 8}, {"100": 8}]


def _burst(pcs, monkeypatch, n: int) -> tuple[list[int], list, list]:
    """Submit `n` tasks at once; the sizes of the backend calls, the tasks and their results."""
    sizes: list[int] = []
    submit_batch = pcs.engine.submit_batch

    def counting(fn, payload, count):
        sizes.append(len(payload.members))
        return submit_batch(fn, payload, count)

    monkeypatch.setattr(pcs.engine, "submit_batch", counting)
    tasks = [QuantumTask(circuit=x_on(i % 3), shots=5) for i in range(n)]
    results = pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=120)
    assert [r.counts for r in results] == [{["001", "010", "100"][i % 3]: 5} for i in range(n)]
    return sizes, tasks, results


def test_a_burst_to_one_resource_is_split_into_batch_chunks(plugins, monkeypatch):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins, batch_chunks=3)
    with pcs:
        pcs.create_pilot(pilot(resource("only", qubits=3)))
        sizes, tasks, results = _burst(pcs, monkeypatch, 9)
        assert sizes == [3, 3, 3]
        assert [r.task_id for r in results] == [t.task_id for t in tasks]
        assert state.runs["scripted:only"] == 9


@pytest.mark.parametrize("serial", [False, True])
def test_a_serial_resource_gets_a_local_burst_as_one_chunk(plugins, monkeypatch, serial):
    """A resource reporting `serial_in_process` (its executor runs one call at a time per process)
    gets a LOCAL burst as one backend call; any other as one chunk per CPU (four, pinned here)."""
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    with pcs:
        pcs.create_pilot(pilot(resource("only", qubits=3, serial_in_process=serial)))
        assert pcs.quantum_resources["scripted:only"].metadata.get("serial_in_process", False) is serial
        sizes, _, _ = _burst(pcs, monkeypatch, 8)
        assert sizes == ([8] if serial else [2, 2, 2, 2])


# -- redaction of attempts -------------------------------------------------------------------------

LEAKY_PLUGIN = textwrap.dedent(
    '''
    from qtau import ExecutorInfo, hookimpl
    from qtau.executor import LocalExecutor
    from qtau.types import Resource

    class Leaky(LocalExecutor):
        def run(self, jobs):
            raise RuntimeError("SDK error: the request with token " + self.config["token_echo"] + " failed")

    @hookimpl
    def qtau_executors():
        return [ExecutorInfo("leaky", "leaky")]

    @hookimpl
    def qtau_resources(executor, config):
        if executor == "leaky":
            return [Resource("leaky:dev", "leaky", "leaky", "simulator", 5, circuit_formats=("qiskit",))]

    @hookimpl
    def qtau_create_executor(resource, config):
        if resource.provider == "leaky":
            return Leaky(resource, config)
    '''
)


def test_attempt_messages_from_sdk_exceptions_are_redacted(plugins, tmp_path, monkeypatch):
    """A tiny plugin whose SDK error quotes the token (a real module loaded as plugins are)."""
    (tmp_path / "qtau_leaky_test_plugin.py").write_text(LEAKY_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    token = "leaked-token-value-0123456789"
    Secret(token)  # what the pilot description's credential would be
    leaky_host = PluginHost(strict=True)
    leaky_host.register_module("leaky", "qtau_leaky_test_plugin")
    for name in ("scripted", "qiskit"):
        leaky_host.register_module(name, {"scripted": "qtau_scripted.plugin", "qiskit": "qtau_qiskit.plugin"}[name])
    [bad] = leaky_host.resources("leaky", {})
    good_config = {"executor": "scripted", "resources": [resource("good", qubits=3)]}
    [good] = leaky_host.resources("scripted", good_config)
    payload = TaskPayload(leaky_host.spec(), QuantumTask(circuit=x_on(0), shots=4),
                          (Placement(bad, {"token_echo": token}), Placement(good, good_config)), time.time())
    result = run_task(payload)
    assert result.counts == {"001": 4}
    failed = result.attempts[0]
    assert failed.error_type == "RuntimeError" and not failed.ok
    assert token not in failed.message and MASK in failed.message
    sys.modules.pop("qtau_leaky_test_plugin", None)


# -- conversion paths ------------------------------------------------------------------------------

def _edge(source, target, cost):
    return Converter(source, target, lambda c: c, provider="test", cost=cost)


def test_path_search_ranks_by_total_cost_not_the_last_step():
    # a -> b -> t costs 1 + 1.5 = 2.5; a -> c -> d -> t costs 0.2 + 0.2 + 2 = 2.4 (its last step is dearer).
    graph = ConversionGraph([_edge("a", "b", 1), _edge("b", "t", 1.5),
                             _edge("a", "c", 0.2), _edge("c", "d", 0.2), _edge("d", "t", 2)])
    assert [c.target for c in graph.path("a", ["t"])] == ["c", "d", "t"]


def _cheapest_by_enumeration(graph, source, target):
    best = None
    nodes = sorted(graph.formats() - {source, target})
    for k in range(len(nodes) + 1):
        for middle in itertools.permutations(nodes, k):
            hops = (source, *middle, target)
            cost = 0.0
            for a, b in itertools.pairwise(hops):
                edges = [c.cost for c in graph.edges.get(a, ()) if c.target == b]
                if not edges:
                    break
                cost += min(edges)
            else:
                best = cost if best is None else min(best, cost)
    return best


def test_every_installed_conversion_path_is_the_cheapest_in_total():
    """Over the real converters of every installed plugin: Dijkstra's path equals the brute force."""
    host = PluginHost()
    host.load_entry_points()
    graph = Circuits(host).graph
    formats = sorted(graph.formats())
    assert len(formats) >= 4
    checked = 0
    for source, target in itertools.permutations(formats, 2):
        chain = graph.path(source, [target])
        best = _cheapest_by_enumeration(graph, source, target)
        if chain is None:
            assert best is None, (source, target)
            continue
        assert sum(c.cost for c in chain) == pytest.approx(best), (source, target, [c.target for c in chain])
        checked += 1
    assert checked >= 6


# -- issue 21: width, fidelity and tie-break mutations that survived ------------------------------

def test_a_declared_width_larger_than_the_circuit_keeps_narrow_devices_out(plugins):
    """num_qubits=4 on a 2-qubit circuit: the task needs 4 qubits (a mutant reading only the
    circuit's width sent it to the 2-qubit device)."""
    with _service(plugins, resource("two", qubits=2), resource("four", qubits=4)) as pcs:
        task = QuantumTask(circuit=bell(), num_qubits=4, shots=20)
        rows = {row.resource_id: row for row in pcs.qdreamer.explain(task).rows}
        assert not rows["scripted:two"].feasible and "needs 4 qubits, has 2" in rows["scripted:two"].reason
        assert rows["scripted:four"].feasible, rows["scripted:four"].reason
        for _ in range(3):
            result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), num_qubits=4, shots=20)))
            assert result.resource_id == "scripted:four" and sum(result.counts.values()) == 20


def test_min_fidelity_exactly_at_the_estimate_is_feasible(plugins):
    with _service(plugins, resource("noisy", one_qubit_error=0.01, two_qubit_error=0.05, readout_error=0.02)) as pcs:
        [row] = pcs.qdreamer.explain(QuantumTask(circuit=bell())).rows
        assert 0.8 < row.fidelity < 0.95
        at = pcs.qdreamer.explain(QuantumTask(circuit=bell(), min_fidelity=row.fidelity)).rows[0]
        assert at.feasible, at.reason
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10, min_fidelity=row.fidelity)))
        assert result.resource_id == "scripted:noisy"
        above = pcs.qdreamer.explain(QuantumTask(circuit=bell(), min_fidelity=row.fidelity + 1e-9)).rows[0]
        assert not above.feasible and "below min_fidelity" in above.reason


@pytest.mark.parametrize("busy", ["a", "b"])
def test_equal_scores_go_to_the_resource_with_less_in_flight_work(plugins, busy):
    """With speed weighted 0 the scores of two identical resources are equal whatever their
    in-flight work, so only the tie-break decides: the idle one wins, whichever is listed first."""
    with _service(plugins, resource("a"), resource("b")) as pcs:
        pcs.qdreamer.task_started(f"scripted:{busy}", 2)
        task = QuantumTask(circuit=bell(), policy={"fidelity": 0.5, "cost": 0.5, "speed": 0.0})
        rows = pcs.qdreamer.explain(task).rows
        assert rows[0].score == rows[1].score
        idle = "scripted:" + ("b" if busy == "a" else "a")
        assert rows[0].resource_id == idle
        assert pcs.qdreamer.place(task)[0].resource.id == idle
        for _ in range(2):
            pcs.qdreamer.task_finished(f"scripted:{busy}")


def test_a_rejected_candidates_wait_counts_queue_in_flight_work_and_lateness(plugins):
    """The table shows a rejected candidate's expected completion with every term: provider queue
    + (in flight + 1) x run time + how late its tasks are (mutants subtracting a term survived)."""
    with _service(plugins, resource("narrow", qubits=1, queue_wait_s=5), resource("wide", qubits=2)) as pcs:
        dreamer = pcs.qdreamer
        dreamer.task_started("scripted:narrow", 2, expected_s=-30.0)  # two tasks, 30 s overdue
        rows = {row.resource_id: row for row in dreamer.explain(QuantumTask(circuit=bell(), shots=1000)).rows}
        late = dreamer.lateness.late(dreamer.clock())["scripted:narrow"]
        assert late >= 30
        run = 2.0 + 1e-3 * 1000  # the QPU run-time default for 1000 shots
        assert not rows["scripted:narrow"].feasible
        assert rows["scripted:narrow"].wait_s == pytest.approx(5 + 3 * run + late, abs=0.5)
        for _ in range(2):
            dreamer.task_finished("scripted:narrow")


def test_a_circuit_object_no_plugin_knows_is_refused_as_unsupported(plugins):
    with _service(plugins, resource("a")) as pcs:
        with pytest.raises(InvalidTaskError, match="unsupported circuit object of type builtins.object") as info:
            pcs.qdreamer.explain(QuantumTask(circuit=object()))
        assert info.value.field == "circuit"


def _noisy_function_circuit():
    return bell()


def test_one_circuit_function_declared_two_ways_is_summarised_each_way(plugins):
    """A circuit function's summary comes from its task's num_qubits and gate_set, so the same
    function declared wider, with more gates, scores a lower fidelity."""
    with _service(plugins, resource("noisy", qubits=4, one_qubit_error=0.01, two_qubit_error=0.05)) as pcs:
        small = QuantumTask(circuit=_noisy_function_circuit, num_qubits=2, gate_set=["h"])
        large = QuantumTask(circuit=_noisy_function_circuit, num_qubits=3, gate_set=["h", "cx"])
        first = pcs.qdreamer.explain(small).rows[0].fidelity
        second = pcs.qdreamer.explain(large).rows[0].fidelity
        assert second < first
        assert pcs.qdreamer.summarize(large)[0].gate_counts == {"h": 3, "cx": 3}


def test_conversions_of_circuit_objects_are_not_shared_between_objects():
    """Text conversions are cached by the text; two circuit objects converted one after the
    other give their own texts (circuits are values)."""
    from qiskit import QuantumCircuit

    host = PluginHost(strict=True)
    host.load_entry_points(allow={"qiskit"})
    circuits = Circuits(host)
    texts = []
    for gate in ("x", "h"):
        qc = QuantumCircuit(1)
        getattr(qc, gate)(0)
        value, fmt, path = circuits.convert(qc, "qiskit", ["openqasm3"])
        assert fmt == "openqasm3" and path == ("qiskit", "openqasm3")
        texts.append(value)
    assert "x q[0];" in texts[0] and "h q[0];" in texts[1]


def test_a_gate_without_definition_is_feasible_only_where_native(plugins):
    from qiskit import QuantumCircuit
    from qiskit.circuit import Gate

    def with_gates(*names):
        qc = QuantumCircuit(2)
        qc.h(0)
        for name in names:
            qc.append(Gate(name, 1, []), [1])
        qc.measure_all()
        return qc

    with _service(plugins, resource("has_it", native_gates=["magic"]), resource("lacks_it")) as pcs:
        rows = {row.resource_id: row for row in pcs.qdreamer.explain(QuantumTask(circuit=with_gates("magic"))).rows}
        assert rows["scripted:has_it"].feasible, rows["scripted:has_it"].reason
        assert rows["scripted:lacks_it"].reason == "gate magic has no definition and is not native to scripted:lacks_it"
        rows = {r.resource_id: r for r in pcs.qdreamer.explain(QuantumTask(circuit=with_gates("magic", "other"))).rows}
        assert rows["scripted:lacks_it"].reason == (
            "gates magic, other have no definition and are not native to scripted:lacks_it")


def test_mid_circuit_measurement_needs_a_resource_that_runs_it(plugins):
    from qiskit import QuantumCircuit

    mid = QuantumCircuit(1, 2)
    mid.measure(0, 0)
    mid.x(0)
    mid.measure(0, 1)
    with _service(plugins, resource("plain")) as pcs:
        assert not pcs.quantum_resources["scripted:plain"].supports_mid_circuit_measurement
        [row] = pcs.qdreamer.explain(QuantumTask(circuit=mid)).rows
        assert not row.feasible and "cannot run mid-circuit measurement" in row.reason
        [row] = pcs.qdreamer.explain(QuantumTask(circuit=x_on(0))).rows
        assert row.feasible, row.reason


def test_run_time_and_speed_terms_by_hand():
    from qtau.dreamer.terms import run_seconds, speed_units
    from qtau.types import CircuitSummary, Resource

    sim = Resource("t:sim", "t", "t", "simulator", 10, metadata={
        "seconds_per_task": 0.0, "seconds_per_shot": 0.0, "seconds_per_amplitude_gate": 1e-3, "state_base": 2})
    summary = CircuitSummary(num_qubits=3, gate_counts={"h": 2, "cx": 1, "measure": 3, "barrier": 1})
    assert run_seconds(sim, 100, summary) == pytest.approx(1e-3 * 2 ** 3 * 3)  # 3 gates on 8 amplitudes
    assert run_seconds(sim, 100) == 0.0
    assert speed_units(3.0, 1.0) == pytest.approx(1.0)  # (3 + 1) / (1 + 1): one doubling
    assert speed_units(0.5, 1.0) == 0.0


def test_the_cool_down_note_says_how_long_is_left(plugins):
    from qtau.types import Attempt

    with _service(plugins, resource("a"), resource("b")) as pcs:
        now = time.time()
        pcs.qdreamer.record_failures([Attempt("scripted:a", False, now - 1, now, "RuntimeError", "boom")])
        rows = {row.resource_id: row for row in pcs.qdreamer.explain(QuantumTask(circuit=bell())).rows}
        assert rows["scripted:a"].note == "cooling down after a failure: score x0.5 for 60 s more"


def test_a_status_refresh_counts_the_in_flight_work_of_that_moment(plugins):
    """The provider's queue depth counts this service's own queued tasks: the share of the reported
    wait that is ours is taken out, as of when the status was read (here: refreshed with 5 in flight)."""
    with _service(plugins, resource("a", queue_wait_s=100, queue_depth=10)) as pcs:
        dreamer = pcs.qdreamer
        task = QuantumTask(circuit=bell(), shots=1000)
        run = 2.0 + 1e-3 * 1000
        assert dreamer.explain(task).rows[0].wait_s == pytest.approx(100 + run)
        dreamer.task_started("scripted:a", 5)
        dreamer.cache.invalidate("scripted:a", "status")
        assert dreamer.explain(task).rows[0].wait_s == pytest.approx(100 * 5 / 10 + 6 * run)
        for _ in range(5):
            dreamer.task_finished("scripted:a")


def test_a_pin_naming_nothing_lists_each_resources_executor_and_pilot(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        made = pcs.create_pilot(pilot(resource("a")))
        with pytest.raises(NoSuitableResourceError) as info:
            pcs.qdreamer.explain(QuantumTask(circuit=bell(), resource="nowhere"))
        assert info.value.rejections == {"scripted:a": f"not 'nowhere' (executor scripted, pilot {made.name})"}


def test_a_missing_path_names_only_the_distributions_missing():
    """From qiskit (whose converters are installed) to braket (whose are not), the hint names
    qtau-braket alone (installed here, so it is named as not loaded rather than to install)."""
    host = PluginHost(strict=True)
    host.load_entry_points(allow={"qiskit"})
    graph = Circuits(host).graph
    assert missing_path_hint("qiskit", ["braket"], graph) == f"qtau-braket is {NOT_LOADED}"
    assert missing_path_hint("braket", ["qiskit"], graph) == f"qtau-braket is {NOT_LOADED}"
