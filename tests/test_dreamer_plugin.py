"""The `scripted` test plugin is a real installed plugin: found through its entry point (by the
QTAU_PLUGINS allowlist or load_entry_points), importing only qtau, validating its config; and
QDREAMER stays in the driver (the worker module never imports it, so workers start no monitor).
"""

import subprocess
import sys

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.errors import ConfigurationError
from qtau.plugins import PluginHost
from qtau_scripted import state
from qtau_scripted.testing import pilot, resource
from qtau_test_circuits import bell


def test_loaded_from_the_environment_through_its_entry_point(monkeypatch):
    monkeypatch.setenv("QTAU_PLUGINS", "scripted,qiskit")
    monkeypatch.delenv("QTAU_BLOCK_PLUGINS", raising=False)
    host = PluginHost.from_environment(strict=True)
    assert host.names == ("qiskit", "scripted")
    assert dict(host.spec().plugins)["scripted"] == "qtau_scripted.plugin"
    assert host.versions["scripted"] == "0.1.0"
    assert host.find_executor("scripted").provider == "scripted"
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=host) as pcs:
        pcs.create_pilot(pilot(resource("a", kind="simulator")))
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=64)), timeout=30)
        assert result.resource_id == "scripted:a" and result.executor == "scripted"
        assert set(result.counts) <= {"00", "11"} and sum(result.counts.values()) == 64
        assert result.metadata["backend"] == "basic_simulator"


def test_plugin_module_imports_only_qtau():
    code = (
        "import sys, qtau_scripted.plugin\n"
        "heavy = [m for m in ('qiskit', 'pennylane', 'braket', 'ray') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""


def test_the_worker_never_imports_qdreamer():
    code = "import sys, qtau.worker\nprint('qtau.dreamer' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "resources,field,valid",
    [
        ([{"name": "a", "behaviour": "explode"}], "quantum.resources[0].behaviour", "ok, fail, hang, offline"),
        ([{"name": "a", "colour": "red"}], "quantum.resources[0].colour", "queue_wait_s"),
        ([{"name": "a", "two_qubit_error": 1.5}], "quantum.resources[0].two_qubit_error", "probability"),
        ([{"name": "a"}, {"name": "a"}], "quantum.resources[1].name", "its own name"),
        ([], "quantum.resources", "'resources'"),
    ],
)
def test_bad_scripted_config_names_the_field(resources, field, valid):
    host = PluginHost(strict=True)
    host.load_entry_points(allow={"scripted"})
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=host) as pcs:
        with pytest.raises(ConfigurationError) as info:
            pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "scripted", "resources": resources}})
        assert info.value.field == field and valid in str(info.value)


def test_script_changes_are_validated_too():
    with pytest.raises(ConfigurationError, match="ok, fail, hang, offline"):
        state.script("scripted:a", behaviour="sometimes")
