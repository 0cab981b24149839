"""v2 Backends: routing by provider, isolation of a Backend's bugs, the v1 adapter."""

import pytest
from qtau.errors import ExecutionError, PluginError
from qtau.plugins import PluginHost
from qtau.plugins_v1 import V1Backend
from qtau.service import PilotComputeService
from qtau.types import QuantumTask

BELL_QASM2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'


def test_v1_plugin_loads_through_the_adapter_with_a_warning_naming_it(plugin_dir):
    host = PluginHost(strict=True)
    host.register_module("v1full", "qtau_t_v1_full")
    with pytest.warns(DeprecationWarning, match="'v1full' uses the v1 hooks"):
        backend = host.backend("v1coin")
    assert isinstance(backend, V1Backend) and host.owner("v1coin") == "v1full"
    with PilotComputeService(plugins=host) as pcs:
        pilot = pcs.create_pilot({"quantum": {"executor": "v1_exec"}})
        assert [r.id for r in pilot.resources] == ["v1coin:zero"]
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=BELL_QASM2, shots=200)), timeout=30)
    assert result.resource_id == "v1coin:zero" and result.counts == {"00": 200}
    assert result.cost == pytest.approx(0.2), "the v1 cost hook is still asked"


def test_a_backends_bug_is_a_plugin_error_naming_the_plugin(plugin_dir):
    host = PluginHost(strict=False)
    host.register_module("brokenb", "qtau_t_broken_backend")
    [_, res] = host.resources("broken_exec", {})
    with pytest.raises(PluginError, match="'brokenb' failed in Backend.status: KeyError") as info:
        host.status(res, {})
    assert info.value.plugin == "brokenb"
    assert any(f.plugin == "brokenb" and f.stage == "status" for f in host.failures)


def test_a_run_bug_becomes_a_failed_attempt(plugin_dir):
    host = PluginHost(strict=False)
    host.register_module("brokenb", "qtau_t_broken_backend")
    with PilotComputeService(plugins=host) as pcs:
        pcs.create_pilot({"quantum": {"executor": "broken_exec"}})
        task = QuantumTask(circuit=BELL_QASM2, resource="broken:a")
        [err] = pcs.get_results([pcs.submit_quantum_task(task)], timeout=30, return_exceptions=True)
    assert isinstance(err, ExecutionError) and "run bug" in str(err)


def test_a_summary_hook_bug_is_reported_as_that_plugins_failure(plugin_dir):
    class Widget:
        pass

    host = PluginHost(strict=False)
    host.register_module("v1full", "qtau_t_v1_full")
    host.register_module("widgets", "qtau_t_broken_summary")
    with PilotComputeService(plugins=host) as pcs:
        pcs.create_pilot({"quantum": {"executor": "v1_exec"}})
        with pytest.raises(PluginError, match="'widgets' failed in qtau_circuit_summary: ValueError: widget summary bug"):
            pcs.qdreamer.explain(QuantumTask(circuit=Widget()))


def test_openqasm_is_summarised_by_core_without_any_sdk_plugin(plugin_dir):
    host = PluginHost(strict=True)
    host.register_module("v1full", "qtau_t_v1_full")
    with PilotComputeService(plugins=host) as pcs:
        pcs.create_pilot({"quantum": {"executor": "v1_exec"}})
        table = pcs.qdreamer.explain(QuantumTask(circuit=BELL_QASM2))
    assert table.chosen.resource_id == "v1coin:zero" and table.circuit_format == "openqasm2"


def test_unknown_provider_says_what_to_install():
    host = PluginHost(strict=True)
    with pytest.raises(PluginError, match="no installed QTAU plugin serves provider 'nowhere'"):
        host.backend("nowhere")


def test_smallest_backend_from_the_plugin_guide_runs(tmp_path, monkeypatch):
    """docs/plugins.md's smallest complete backend (one class, <= 30 lines) builds and runs."""
    import pathlib
    import re

    guide = (pathlib.Path(__file__).parents[2] / "docs" / "plugins.md").read_text()
    block = re.search(r"<!-- smallest-backend -->\s*```python\n(.*?)```", guide, re.S).group(1)
    assert len(block.strip().splitlines()) <= 30
    (tmp_path / "qtau_t_smallest.py").write_text(block)
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost(strict=True)
    host.register_module("coin", "qtau_t_smallest")
    with PilotComputeService(plugins=host) as pcs:
        pcs.create_pilot({"quantum": {"executor": "coin_flip"}})
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=BELL_QASM2, shots=100)), timeout=30)
    assert sum(result.counts.values()) == 100 and all(len(k) == 2 for k in result.counts)
