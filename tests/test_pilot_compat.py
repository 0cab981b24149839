"""Pilot-Quantum code runs unchanged on QTAU: the behaviours its examples, unit tests and docs use.

Each test is this suite's own check of one behaviour Pilot-Quantum's QDREAMER-era code (commit
f267af9 and PR #19) relies on, on local simulators and IBM fake backends, on LOCAL (and one on
RAY). docs/pilot-quantum.md lists the names and what differs.
"""

from __future__ import annotations

import csv
import os
import warnings

import pytest
from pilot.compat_warnings import PilotQuantumCompatWarning
from pilot.dreamer import (
    Q_DREAMER,
    DreamerStrategyType,
    LeastBusyStrategy,
    LeastErrorRateStrategy,
    OptimizedResourceSelector,
    QuantumResource,
    QuantumTask,
    RoundRobinStrategy,
    TaskType,
    get_cut_plan,
    get_cuts,
)
from pilot.pilot_compute_service import ExecutionEngine, PilotAPIException, PilotComputeService
from qiskit import QuantumCircuit
from qtau.errors import ConfigurationError, InvalidTaskError, QtauError
from qtau.plugins import PluginHost


@pytest.fixture(scope="module")
def host() -> PluginHost:
    host = PluginHost(strict=True)
    for name in ("qiskit", "pennylane", "ibmq"):
        host.register_module(name, f"qtau_{name}.plugin")
    return host


@pytest.fixture
def pcs(host, tmp_path):
    service = PilotComputeService(ExecutionEngine.LOCAL, str(tmp_path), plugins=host)
    yield service
    service.cancel()


def bell(measure: bool = True) -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    if measure:
        qc.measure([0, 1], [0, 1])
    return qc


def qiskit_pilot(pcs, **quantum):
    return pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local", **quantum},
                             "type": "ray"})


def run(pcs, task):
    handle = pcs.submit_quantum_task(task)
    pcs.wait_tasks([handle])
    [value] = pcs.get_results([handle])
    return value


# -- task shapes -----------------------------------------------------------------------------------

def test_both_lineages_task_arguments_and_attributes():
    qc = bell()
    old = QuantumTask(qc, 2, ["h", "cx"], {"num_qpus": 1})
    assert (old.circuit, old.num_qubits, old.gate_set, old.resource_config) == (qc, 2, ["h", "cx"], {"num_qpus": 1})
    new = QuantumTask([qc, qc], {}, (1,), {"task_id": "t-1"})
    assert new.circuits == [qc, qc] and new.args == (1,) and new.task_id == "t-1"
    assert old.type is new.type is TaskType.QUANTUM
    assert QuantumTask(circuits=[qc], resource_config={}, kwargs={}).task_id != QuantumTask(circuits=[qc]).task_id
    # The user's list comes back as given (Pilot-Quantum compared ['h', 'cx']); QTAU gets it normalised.
    assert QuantumTask(circuit=qc, gate_set=["h", "cnot"]).gate_set == ["h", "cnot"]
    assert QuantumTask(circuit=qc, gate_set=["h", "cnot"]).to_qtau()[0].gate_set == ("cx", "h")


def test_circuit_lists_give_one_result_per_circuit(pcs):
    qiskit_pilot(pcs)
    ghz = QuantumCircuit(3, 3)
    ghz.h(0)
    ghz.cx(0, 1)
    ghz.cx(1, 2)
    ghz.measure(range(3), range(3))
    for task in (QuantumTask(circuits=[bell(), ghz], resource_config={}), QuantumTask(circuit=[bell(), ghz])):
        results = run(pcs, task)
        assert [set(r.get_counts()) for r in results] == [{"00", "11"}, {"000", "111"}]


def test_seed_resource_config_and_oversized_num_qubits_run(pcs):
    """Pilot-Quantum's first example asks 10 qubits and num_qpus 2 for a 2-qubit circuit."""
    qiskit_pilot(pcs)
    task = QuantumTask(circuit=bell, num_qubits=10, gate_set=[],
                       resource_config={"num_qpus": 2, "num_gpus": 0, "memory": None})
    assert set(run(pcs, task).get_counts()) == {"00", "11"}


def test_plain_pennylane_function_runs_as_a_tape(pcs):
    import pennylane as qml

    def bell_state():
        qml.Hadamard(wires=0)
        qml.CNOT(wires=[0, 1])
        return qml.probs(wires=[0, 1])

    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "pennylane", "device": "default.qubit"}})
    result = run(pcs, QuantumTask(circuit=bell_state, num_qubits=2, gate_set=["h", "cnot"]))
    assert list(result.values) == pytest.approx([0.5, 0.0, 0.0, 0.5])


def test_unknown_task_argument_is_named():
    with pytest.raises(InvalidTaskError, match="colour"):
        QuantumTask(circuit=bell(), colour="red").to_qtau()


# -- executor names and configs --------------------------------------------------------------------

def test_backend_and_device_lists_become_resources(pcs):
    qiskit_pilot(pcs, backend=["qasm_simulator", "statevector_simulator"])
    pcs.create_pilot({"resource_type": "quantum",
                      "quantum": {"executor": "pennylane", "devices": ["default.qubit", "qiskit.aer"]}})
    ids = sorted(r.resource_id for r in pcs.quantum_resources.values())
    assert ids == ["pennylane:default.qubit", "pennylane:qiskit.aer", "qiskit:aer_simulator",
                   "qiskit:aer_simulator_statevector"]
    assert all(name.startswith(f"{r.pilot_name}_") for name, r in pcs.quantum_resources.items())


def test_unknown_qiskit_backend_is_refused_with_the_choices(pcs):
    with pytest.raises(ConfigurationError, match="statevector_simulator") as err:
        qiskit_pilot(pcs, backend=["qasm_simulatr"])
    assert err.value.field == "quantum.backend"


def test_a_refused_member_leaves_no_resource_behind(pcs):
    """The first member (Aer) is made before the second (a fake without readout data) is refused."""
    with pytest.raises(ConfigurationError, match="fake_almaden"):
        pcs.create_pilot({"quantum": {"executor": "qiskit_local"},
                          "additional_executors": {"ibmq_fake_almaden": {}}})
    assert pcs.quantum_resources == {} and pcs.get_pilots() == []
    handle = pcs.submit_quantum_task(QuantumTask(circuit=bell(), num_qubits=2))
    with pytest.warns(PilotQuantumCompatWarning):
        assert pcs.get_results([handle]) == [None]


def test_custom_backends_work_and_least_error_rate_picks_the_best(pcs):
    customs = {"hi": {"error_rate": 0.001, "noise_level": 0.001, "qubit_count": 32},
               "lo": {"error_rate": 0.15, "noise_level": 0.10, "qubit_count": 128}}
    pilot = qiskit_pilot(pcs, custom_backends=customs)
    views = pcs.quantum_resources
    assert {v.original_name: v.error_rate for v in views.values()} == {"hi": 0.001, "lo": 0.15}
    pcs.initialize_dreamer(DreamerStrategyType.LEAST_ERROR_RATE)
    result = run(pcs, QuantumTask(circuit=bell, num_qubits=2, gate_set=["h", "cx", "measure"]))
    assert result.resource_id == views[f"{pilot.name}_hi"].resource_id


def test_additional_executors_add_resources(pcs):
    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"},
                      "additional_executors": {"pennylane": {"device": "default.qubit"}}})
    assert "pennylane:default.qubit" in {r.resource_id for r in pcs.quantum_resources.values()}


def test_ibmq_backend_names_run_on_fakes_without_a_token(pcs, monkeypatch):
    monkeypatch.delenv("IBMQX_TOKEN", raising=False)
    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "ibmq", "backend": ["fake_quebec"]}})
    [view] = pcs.quantum_resources.values()
    assert view.resource_id == "ibmq:fake_quebec" and 0 < view.error_rate < 0.1 and "sx" in view.gateset
    assert set(run(pcs, QuantumTask(circuit=bell(), num_qubits=2)).get_counts()) >= {"00", "11"}


def test_refactoring_notes_configs(pcs, monkeypatch):
    """REFACTORED_ARCHITECTURE.md's configurations: `backend_name`, and IBM's qasm simulator."""
    monkeypatch.delenv("IBMQX_TOKEN", raising=False)
    qiskit_pilot(pcs, executor="qiskit", backend_name="qasm_simulator")
    pcs.create_pilot({"quantum": {"executor": "ibmq", "backend": "ibmq_qasm_simulator", "service": "runtime"}})
    assert sorted(r.resource_id for r in pcs.quantum_resources.values()) == ["ibmq:qasm_simulator",
                                                                             "qiskit:aer_simulator"]


def test_unknown_executor_falls_back_to_fakes_with_a_warning(pcs, monkeypatch):
    """The full fake catalogue is 60 backends; the list is cut to one (a mock of the catalogue)."""
    import pilot.descriptions as descriptions

    monkeypatch.delenv("IBMQX_TOKEN", raising=False)
    monkeypatch.setattr(descriptions, "_fake_names", lambda: ["fake_manila", "fake_almaden"])
    with pytest.warns(PilotQuantumCompatWarning, match="invalid_executor"):
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "invalid_executor"}})
    # fake_almaden has no readout data: QTAU cannot run it, so the fallback leaves it out.
    assert [r.resource_id for r in pcs.quantum_resources.values()] == ["ibmq:fake_manila"]


def test_misspelt_executor_is_refused_not_replaced(pcs):
    with pytest.raises(ConfigurationError, match="did you mean 'qiskit_local'"):
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_locl"}})


def test_remote_ssh_resource_is_refused_with_a_fix(pcs):
    with pytest.raises(ConfigurationError, match="ray_address"):
        pcs.create_pilot({"resource": "ssh://cluster.example.org", "type": "ray"})


# -- QDREAMER strategies as QTAU modes -------------------------------------------------------------

def test_round_robin_spreads_tasks_over_equal_resources(pcs):
    qiskit_pilot(pcs, backend=["qasm_simulator", "statevector_simulator"])
    pcs.initialize_dreamer(DreamerStrategyType.ROUND_ROBIN)
    handles = [pcs.submit_quantum_task(QuantumTask(circuit=bell(), num_qubits=2)) for _ in range(6)]
    used = {r.resource_id for r in pcs.get_results(handles)}
    assert used == {"qiskit:aer_simulator", "qiskit:aer_simulator_statevector"}


@pytest.mark.parametrize(("setting", "weights"), [
    ({"load_balancing": {"fidelity_weight": 3, "queue_weight": 1}}, {"fidelity": 0.75, "speed": 0.25, "cost": 0.0}),
    ({"optimization_mode": "multi_objective"}, {"fidelity": 0.3, "speed": 0.6, "cost": 0.1}),
    ("least_busy", {"fidelity": 0.1, "speed": 0.8, "cost": 0.1}),
])
def test_seed_dreamer_settings_become_qtau_weights(pcs, setting, weights):
    qiskit_pilot(pcs)
    assert not pcs.dreamer_enabled
    assert pcs.initialize_dreamer(setting).config.weights == pytest.approx(weights)
    assert pcs.dreamer_enabled


def test_dreamer_needs_a_quantum_pilot_and_a_known_mode(pcs):
    with pytest.raises(PilotAPIException, match="No quantum pilot"):
        pcs.initialize_dreamer()
    qiskit_pilot(pcs)
    with pytest.raises(ConfigurationError, match="optimization mode"):
        pcs.initialize_dreamer({"optimization_mode": "fastest"})


# -- service and pilot surface ---------------------------------------------------------------------

def test_service_and_pilot_surface(pcs, caplog):
    pilot = qiskit_pilot(pcs)
    assert pcs.get_pilots() == [pilot.name] and pcs.get_pilot(pilot.name) is pilot
    assert pilot.get_id() == pilot.name and pilot.get_state() == "RUNNING" and str(pilot) == pilot.name
    pilot.wait()
    assert pilot.get_client() is pcs.get_client() is pcs
    with pytest.raises(PilotAPIException, match="not found"):
        pcs.get_pilot("nope")
    # Pilot-Quantum's examples log through the service: `logger = pcs.get_logger(); logger.info(...)`
    assert pcs.get_logger() is pilot.get_logger() is pcs.logger
    with caplog.at_level("INFO", logger="pilot.pcs_logger"):
        pcs.get_logger().info("Found solution using 2 cuts")
    assert "Found solution using 2 cuts" in caplog.text
    handle = pilot.submit_task(sum, [1, 2, 3])
    pilot.wait_tasks([handle])
    assert pilot.get_results([handle]) == [6]
    pilot.cancel()
    assert pcs.quantum_resources == {}
    handle = pcs.submit_quantum_task(QuantumTask(circuit=bell(), num_qubits=2))
    with pytest.warns(PilotQuantumCompatWarning):
        assert pcs.get_results([handle]) == [None]  # no resource left to run it


def test_metrics_file_records_where_each_task_ran(pcs):
    pilot = qiskit_pilot(pcs)
    result = run(pcs, QuantumTask(circuit=bell(), num_qubits=2))
    with open(pcs.metrics_file_name) as f:
        [row] = list(csv.DictReader(f))
    assert row["task_id"] == result.task_id and row["status"] == "SUCCESS"
    assert row["pilot_scheduled"].startswith(f"{pilot.name}_qiskit_") and row["pilot_name"] == pilot.name
    assert os.path.dirname(pcs.metrics_file_name).startswith(pcs.working_directory)


def test_classical_tasks_keep_resources_out_of_the_function(pcs):
    pcs.create_pilot({"resource": "ssh://localhost", "type": "ray", "number_of_nodes": 2, "cores_per_node": 1})

    def f(x, **kwargs):
        return x, kwargs

    handle = pcs.submit_task(f, 7, resources={"num_cpus": 1}, task_name="t", pilot="any")
    assert pcs.get_results([handle]) == [(7, {})]


def test_a_task_handle_given_as_an_argument_is_that_tasks_value(pcs):
    # examples/pennylane/hybrid_computation: opt = submit_task(get_optimizer); submit_task(training, opt, ...)
    qiskit_pilot(pcs)
    pcs.initialize_dreamer()
    first = pcs.submit_task(lambda: 41)
    counts = pcs.submit_quantum_task(QuantumTask(circuit=bell(), num_qubits=2))
    chained = pcs.submit_task(lambda x, result=None: (x + 1, sorted(result.get_counts())), first, result=counts)
    assert pcs.get_results([chained, first]) == [(42, ["00", "11"]), 41]
    failed = pcs.submit_task(lambda: 1 / 0)
    after = pcs.submit_task(lambda x: x, failed)
    [error] = pcs.get_results([after], return_exceptions=True)
    assert isinstance(error, QtauError) and "ZeroDivisionError" in str(error) and "argument 0" in str(error)


def test_ray_options_of_a_quantum_task_become_its_resource_config(pcs):
    """Pilot-Quantum's `submit_quantum_task(task, *args, **kwargs)` took `resources` (its Ray
    options); here the call raised a bare TypeError. They fill resource_config; the rest is left
    out with a warning naming it."""
    qiskit_pilot(pcs)
    pcs.initialize_dreamer()
    task = QuantumTask(circuit=bell(), num_qubits=2, resource_config={"num_qpus": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        handle = pcs.submit_quantum_task(task, resources={"num_cpus": 1})
    assert set(pcs.get_results([handle])[0].get_counts()) <= {"00", "11"}
    with pytest.warns(PilotQuantumCompatWarning, match="accelerator_type, argument 0"):
        handle = pcs.submit_quantum_task(task, "extra", resources={"num_cpus": 1, "accelerator_type": "A100"})
    assert set(pcs.get_results([handle])[0].get_counts()) <= {"00", "11"}
    [refused] = pcs.get_results([pcs.submit_quantum_task(task, resources={"num_cpus": 10_000})],
                                return_exceptions=True)
    assert isinstance(refused, InvalidTaskError) and refused.field == "resource_config.num_cpus"
    with pytest.raises(InvalidTaskError) as caught:
        pcs.submit_quantum_task(task, resources=["num_cpus"])
    assert caught.value.field == "resources"


def test_failed_tasks_read_none_with_one_warning(pcs):
    qiskit_pilot(pcs)
    bad = [pcs.submit_quantum_task(QuantumTask(circuit="invalid_circuit", num_qubits=2, gate_set=["h", "cx"])),
           pcs.submit_task(lambda: 1 / 0)]
    good = pcs.submit_quantum_task(QuantumTask(circuit=bell(), num_qubits=2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = pcs.get_results([*bad, good])
    assert values[:2] == [None, None] and set(values[2].get_counts()) == {"00", "11"}
    assert [w.category for w in caught] == [PilotQuantumCompatWarning]
    # Asked for, the error itself comes back (QTAU's way), from this layer and from QTAU's service.
    handles = [pcs.submit_quantum_task(QuantumTask(circuit="invalid_circuit", num_qubits=2)) for _ in range(2)]
    [error] = pcs.get_results(handles[:1], return_exceptions=True)
    [same] = pcs.qtau.get_results(handles[1:], return_exceptions=True)
    assert isinstance(error, InvalidTaskError) and isinstance(same, InvalidTaskError)
    [raised] = pcs.get_results([pcs.submit_task(lambda: 1 / 0)], return_exceptions=True)
    assert isinstance(raised, QtauError) and "ZeroDivisionError" in str(raised)


def test_foreign_working_directory_falls_back_to_a_temporary_one(host):
    with pytest.warns(PilotQuantumCompatWarning, match="another machine"):
        service = PilotComputeService(ExecutionEngine.LOCAL, "/NoSuchTopLevel/pmantha/work", plugins=host)
    try:
        assert not os.path.exists("/NoSuchTopLevel") and os.path.exists(service.metrics_file_name)
    finally:
        service.cancel()


def test_dask_is_refused_with_a_fix():
    with pytest.raises(PilotAPIException, match="ExecutionEngine.RAY"):
        PilotComputeService(ExecutionEngine.DASK)


# -- standalone selection, modules and cut plans ---------------------------------------------------

RESOURCES = {
    "r1": QuantumResource("r1", 5, ["h", "cx", "x"], 0.01, 0.1),
    "r2": QuantumResource("r2", 3, ["h", "cx"], 0.05, 0.2, pending_jobs=0),
    "r3": QuantumResource("r3", 1, ["h", "cx"], 0.001, 0.1),
}


def test_strategies_and_q_dreamer_in_both_argument_orders(capsys):
    task = QuantumTask(circuit=bell(), num_qubits=2, gate_set=["h", "cnot"])
    assert LeastErrorRateStrategy().select_resource(task, RESOURCES).name == "r3"
    robin = RoundRobinStrategy()
    assert [robin.select_resource(task, RESOURCES).name for _ in range(4)] == ["r1", "r2", "r3", "r1"]
    assert LeastBusyStrategy().select_resource(task, {}) is None
    assert Q_DREAMER(RESOURCES, DreamerStrategyType.LEAST_ERROR_RATE).get_best_resource(task).name == "r3"
    assert capsys.readouterr().out == "Best resource selected: r3\n"
    # The optimiser filters: r3 has too few qubits, so the best fidelity that fits is r1.
    assert Q_DREAMER({"optimization_mode": "high_fidelity"}, RESOURCES).get_best_resource(task).name == "r1"
    dreamer = Q_DREAMER(RESOURCES, DreamerStrategyType.ROUND_ROBIN)
    dreamer.strategy_type = "invalid_strategy"
    with pytest.raises(ValueError, match="invalid strategy") as err:
        dreamer.get_strategy()
    assert isinstance(err.value, QtauError)


def test_optimizer_modes_filter_and_rank():
    task = QuantumTask(circuit=bell(), num_qubits=2, gate_set=["h", "x"])
    for mode in ("high_fidelity", "high_speed", "balanced", "multi_objective"):
        assert OptimizedResourceSelector(mode).optimize_resource_selection(task, RESOURCES).name == "r1"
    queues = {"r1": 1.0}
    chosen = OptimizedResourceSelector("high_speed").optimize_resource_selection(
        QuantumTask(circuit=bell(), num_qubits=2, gate_set=["h"]), RESOURCES, queues)
    assert chosen.name == "r2"
    assert OptimizedResourceSelector().optimize_resource_selection(task, {}) is None
    with pytest.raises(ConfigurationError, match="fastest"):
        OptimizedResourceSelector("fastest")


def test_resource_generator_and_executors_run_on_qtau(host):
    from pilot.executors.executor_factory import QuantumExecutorFactory
    from pilot.util.quantum_resource_generator import QuantumResourceGenerator

    found = QuantumResourceGenerator(host).get_quantum_resources(
        "qiskit", {"executor": "qiskit_local", "backend": ["qasm_simulator", "statevector_simulator"]})
    assert sorted(found) == ["qiskit_aer_simulator", "qiskit_aer_simulator_statevector"]
    older = QuantumResourceGenerator(host).get_quantum_resources("pennylane_default", {"backend": "default.qubit"})
    assert [r.resource_id for r in older.values()] == ["pennylane:default.qubit"]
    executor = QuantumExecutorFactory.create_executor("qiskit", {"backend": "qasm_simulator", "shots": 500})
    try:
        result = executor.execute_circuit(bell())
        assert result.shots == 500 and set(result.get_counts()) == {"00", "11"} and executor.is_simulator()
    finally:
        executor.close()
    with pytest.raises(ValueError, match="Unsupported executor"):
        QuantumExecutorFactory.create_executor("cirq")


def test_cut_plans_answer_from_the_cutting_addon():
    from math import pi

    qc = QuantumCircuit(25)
    qc.csx(0, 1)
    qc.cx(1, 2)
    qc.rzz(pi / 6, 2, 3)
    qc.iswap(3, 4)
    qc.cz(0, 4)
    plan = get_cut_plan(qc, 2)
    assert plan["number_of_cuts"] == 2 and plan["total_overhead"] == pytest.approx(23.3137, rel=1e-3)
    assert sorted(len(f) for f in plan["fragments"]) == [2, 3]
    assert get_cut_plan(qc, 5, qpu_capacities=[8] * 5)["number_of_cuts"] == 0
    assert "No feasible" in get_cut_plan(qc, 2, max_overhead=5)["notes"]
    assert get_cuts(qc, 5) == 5


def test_cut_plan_names_the_package_it_needs(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_addon(name, *args, **kwargs):
        if name.startswith("qiskit_addon_cutting"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_addon)
    with pytest.raises(ConfigurationError, match="pip install qiskit-addon-cutting"):
        get_cut_plan(bell(False), 2)


# -- RAY -------------------------------------------------------------------------------------------

@pytest.mark.ray
@pytest.mark.slow
def test_on_ray_classical_pilot_handles_and_circuit_lists(host, tmp_path):
    import ray

    service = PilotComputeService(ExecutionEngine.RAY, str(tmp_path), plugins=host)
    try:
        service.create_pilot({"resource": "ssh://localhost", "type": "ray", "number_of_nodes": 1})
        classical = service.submit_task(lambda x, **kw: (x, kw), 3, resources={"num_cpus": 1})
        qiskit_pilot(service)
        service.initialize_dreamer(DreamerStrategyType.ROUND_ROBIN)
        many = service.submit_quantum_task(QuantumTask(circuits=[bell(), bell()]))
        assert isinstance(many, ray.ObjectRef) and len(ray.get(many)) == 2
        service.wait_tasks([classical, many])
        value, results = service.get_results([classical, many])
        assert value == (3, {}) and [set(r.get_counts()) for r in results] == [{"00", "11"}] * 2
        client = service.get_client()
        with client:  # Pilot-Quantum's examples: `with pcs.get_client(): ray.get([...])`
            assert client.get([ray.remote(lambda x: x * x).remote(2)]) == [4]
        later = service.submit_task(abs, -5)  # leaving the block left the service's Ray running
        chained = service.submit_task(lambda pair, n: pair[0] * n, classical, later)  # ObjectRefs as arguments
        assert service.get_results([later, chained]) == [5, 15]
    finally:
        service.cancel()
