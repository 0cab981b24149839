"""The plugin host wraps each hook implementation once: one plugin's failure re-runs nothing, a
Backend is known by the plugin (pluggy's name) whose implementation returned it, and every executor
reaches the worker in one of the two current shapes.

The plugins are real modules written to a temporary folder and loaded by import path, the way
entry points load them; each counts its own calls in a module-level list.
"""

import sys
import textwrap

import pytest
from qtau.errors import PluginError
from qtau.executor import CircuitJob, LocalExecutor, RemoteExecutor
from qtau.plugins import PluginHost
from qtau.plugins_v1 import V1Executor, in_current_shape
from qtau.service import PilotComputeService
from qtau.types import Converter, QuantumTask

BELL_QASM2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'

COUNTING_GOOD = """
from qtau import Converter, hookimpl

CALLS = []


@hookimpl
def qtau_circuit_format(circuit):
    CALLS.append("format")
    return "widget" if type(circuit).__name__ == "Widget" else None


@hookimpl
def qtau_circuit_converters():
    CALLS.append("converters")
    return [Converter("widget", "openqasm2", str, provider="countgood")]
"""

COUNTING_BAD = """
from qtau import hookimpl

CALLS = []


@hookimpl
def qtau_circuit_format(circuit):
    CALLS.append("format")
    raise RuntimeError("format bug")


@hookimpl
def qtau_circuit_converters():
    CALLS.append("converters")
    raise RuntimeError("converters bug")


@hookimpl
def qtau_circuit_summary(circuit, circuit_format):
    CALLS.append("summary")
    raise RuntimeError("summary bug")
"""

# Backend classes defined in a module that is not the plugin's entry-point module: the host must not
# guess the plugin from a class's module name.
SHARED_BACKENDS = """
from qtau import Backend, Outcome, Resource


class Zero(Backend):
    executor_names = ()

    def __init__(self, provider):
        self.provider = provider
        self.executor_names = (f"{provider}_exec",)

    def resources(self, executor, config):
        return [Resource(f"{self.provider}:zero", self.provider, executor, "simulator", 2,
                         circuit_formats=("openqasm2",))]

    def run(self, resource, jobs):
        return [Outcome(counts={"0" * (job.width or 1): job.shots}) for job in jobs]
"""

ALIAS_PLUGIN = """
from qtau import hookimpl
from qtau_t_shared_backends import Zero


@hookimpl
def qtau_backends():
    return [Zero("aliased")]
"""

OTHER_PLUGIN = """
from qtau import hookimpl
from qtau_t_shared_backends import Zero


@hookimpl
def qtau_backends():
    return [Zero("other")]
"""

# A v2 Backend whose executor still has the v1 shape: submit returns a handle, result blocks.
V1_SHAPED_EXECUTOR = """
from qtau import Backend, Executor, Outcome, Resource, hookimpl

CALLS = []


class HandleExecutor(Executor):
    def submit(self, jobs):
        CALLS.append("submit")
        return [job.shots for job in jobs]

    def result(self, handle, timeout=None):
        CALLS.append(("result", timeout))
        return [Outcome(counts={"11": shots}) for shots in handle]


class Handles(Backend):
    provider = "handles"
    executor_names = ("handles_exec",)

    def resources(self, executor, config):
        return [Resource("handles:one", "handles", executor, "simulator", 2, circuit_formats=("openqasm2",))]

    def executor(self, resource, config):
        return HandleExecutor(resource, config)


@hookimpl
def qtau_backends():
    return [Handles()]
"""

MODULES = {
    "qtau_t_count_good": COUNTING_GOOD, "qtau_t_count_bad": COUNTING_BAD,
    "qtau_t_shared_backends": SHARED_BACKENDS, "qtau_t_alias_plugin": ALIAS_PLUGIN,
    "qtau_t_other_plugin": OTHER_PLUGIN, "qtau_t_v1_shaped": V1_SHAPED_EXECUTOR,
}


class Widget:
    """A circuit object only the counting plugin recognises."""


@pytest.fixture
def modules(tmp_path, monkeypatch):
    for name, body in MODULES.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def calls(module: str) -> list:
    return sys.modules[module].CALLS


def counting_host() -> PluginHost:
    host = PluginHost(strict=False)
    host.register_module("countgood", "qtau_t_count_good")
    host.register_module("countbad", "qtau_t_count_bad")
    return host


def test_a_failing_first_result_hook_runs_every_implementation_once(modules):
    host = counting_host()
    assert host.call("qtau_circuit_format", circuit=Widget()) == "widget"
    assert calls("qtau_t_count_bad") == ["format"]
    assert calls("qtau_t_count_good") == ["format"], "the good plugin answered once, not again after the failure"
    assert [(f.plugin, f.stage) for f in host.failures] == [("countbad", "qtau_circuit_format")]


def test_a_failing_collected_hook_keeps_the_others_answers_and_runs_each_once(modules):
    host = counting_host()
    [converters] = host.call("qtau_circuit_converters")
    assert [(c.source, c.target) for c in converters] == [("widget", "openqasm2")]
    assert all(isinstance(c, Converter) for c in converters)
    assert calls("qtau_t_count_good") == ["converters"] and calls("qtau_t_count_bad") == ["converters"]
    assert len(host.failures) == 1 and "converters bug" in host.failures[0].message


def test_a_required_call_nobody_answers_raises_the_failure_naming_the_plugin(modules):
    host = counting_host()
    with pytest.raises(PluginError) as info:
        host.call("qtau_circuit_summary", required=True, circuit=Widget(), circuit_format="widget")
    assert info.value.plugin == "countbad" and "summary bug" in str(info.value)
    assert calls("qtau_t_count_bad") == ["summary"]
    assert host.call("qtau_circuit_summary", circuit=Widget(), circuit_format="widget") is None, (
        "without required, a failed hook is no answer")


def test_strict_mode_raises_the_plugins_failure_at_once(modules):
    host = PluginHost(strict=True)
    host.register_module("countbad", "qtau_t_count_bad")
    host.register_module("countgood", "qtau_t_count_good")
    with pytest.raises(PluginError) as info:
        host.call("qtau_circuit_format", circuit=object())
    assert info.value.plugin == "countbad"


def test_a_backend_belongs_to_the_plugin_whose_implementation_returned_it(modules):
    host = PluginHost(strict=True)
    host.register_module("alias", "qtau_t_alias_plugin")
    host.register_module("other", "qtau_t_other_plugin")
    assert set(host.backends()) == {"aliased", "other"}
    assert host.owner("aliased") == "alias" and host.owner("other") == "other"


def test_a_backends_bug_names_the_plugin_that_returned_it(modules):
    host = PluginHost(strict=False)
    host.register_module("alias", "qtau_t_alias_plugin")
    backend = host.backend("aliased")
    backend.resources = lambda executor, config: 1 / 0
    with pytest.raises(PluginError) as info:
        host.resources("aliased_exec", {})
    assert info.value.plugin == "alias"


def test_a_v1_shaped_executor_reaches_the_worker_as_a_local_executor(modules):
    host = PluginHost(strict=True)
    host.register_module("handles", "qtau_t_v1_shaped")
    [resource] = host.resources("handles_exec", {})
    executor = host.create_executor(resource, {})
    assert isinstance(executor, V1Executor) and isinstance(executor, LocalExecutor)
    outcomes = executor.run([CircuitJob("t", BELL_QASM2, "openqasm2", 5, width=2)])
    assert [o.counts for o in outcomes] == [{"11": 5}]
    assert calls("qtau_t_v1_shaped") == ["submit", ("result", None)]


def test_a_v1_shaped_executor_runs_a_task_end_to_end(modules):
    host = PluginHost(strict=True)
    host.register_module("handles", "qtau_t_v1_shaped")
    with PilotComputeService(plugins=host) as pcs:
        pcs.create_pilot({"quantum": {"executor": "handles_exec"}})
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=BELL_QASM2, shots=7)), timeout=30)
    assert result.resource_id == "handles:one" and result.counts == {"11": 7}


def test_current_shapes_pass_unchanged(modules):
    host = PluginHost(strict=True)
    host.register_module("alias", "qtau_t_alias_plugin")
    [resource] = host.resources("aliased_exec", {})
    executor = host.create_executor(resource, {})
    assert type(executor) is not V1Executor and in_current_shape(executor) is executor

    class Remote(RemoteExecutor):
        def submit(self, jobs):
            return "ref"

        def poll(self, refs):
            return ["done" for _ in refs]

        def fetch(self, ref):
            return []

    remote = Remote(resource, {})
    assert in_current_shape(remote) is remote
