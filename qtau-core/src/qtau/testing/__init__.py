"""The conformance suite every QTAU backend plugin runs against itself.

Subclass `BackendConformance` in the plugin's own tests (PennyLane ships its device tests the same
way); pytest collects the subclass and runs every check against the plugin's real backend:

    from qtau.testing import BackendConformance

    class TestConformance(BackendConformance):
        plugin_name = "qiskit"                 # entry-point name = Resource.provider
        plugin_module = "qtau_qiskit.plugin"   # the entry-point module
        executor = "qiskit_local"
        config = {}                            # the pilot's `quantum` section (without executor)

        def bell_circuit(self): ...            # 2 qubits, H + CX, both measured
        def x0_circuit(self): ...              # 3 qubits, X on qubit 0, all measured: reads "001"
        def x1_idle_circuit(self): ...         # 3 qubits, X on qubit 1, NO measurement: reads "010"

The suite builds its own plugin host with only this plugin and its companions, and runs tasks
through a LOCAL PilotComputeService. Class attributes a suite may set besides the four above:

- `companion_plugins`: `(name, module)` of the plugins the backend needs beside itself, such as
  `(("qiskit", "qtau_qiskit.plugin"),)` for a backend whose circuits are Qiskit circuits. Left
  unset (None), the suite finds them among the installed plugins: each one that recognises a test
  circuit the plugin under test does not, or adds a missing conversion path from a test circuit
  to the resources' formats (qtau.testing.companions). `()` loads the plugin under test alone.
- `noisy`: True for a backend with noise: counts must be mostly (60%) the expected outcomes
  instead of only them; the Bell check still needs both outcomes above 30%.
- `shots`: shots per test task (default 1000); counts must add up to it.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from typing import Any, ClassVar

import pytest

from qtau.backend import Backend
from qtau.circuits import detect_format
from qtau.errors import InvalidTaskError, NoSuitableResourceError, QtauError, UnknownExecutorError
from qtau.plugins import PluginHost
from qtau.plugins_v1 import V1Backend
from qtau.service import PilotComputeService
from qtau.testing.companions import find_companions
from qtau.types import (
    CostEstimate,
    ExecutorInfo,
    NoiseProfile,
    QuantumTask,
    Resource,
    ResourceStatus,
)

SDK_MODULES = ("qiskit", "pennylane", "braket", "ray", "qiskit_aer", "qiskit_ibm_runtime")


class BackendConformance:
    plugin_name: ClassVar[str]
    plugin_module: ClassVar[str]
    executor: ClassVar[str]
    config: ClassVar[dict[str, Any]] = {}
    #: Plugins the backend relies on (as `(name, module)`), e.g. the one owning its circuit format.
    #: None: found among the installed plugins (qtau.testing.companions); (): none at all.
    companion_plugins: ClassVar[tuple[tuple[str, str], ...] | None] = None
    #: Noisy backends: counts are checked for the dominant outcome, not for exactness.
    noisy: ClassVar[bool] = False
    shots: ClassVar[int] = 1000

    def bell_circuit(self) -> Any:
        raise NotImplementedError("return a measured 2-qubit Bell circuit in your plugin's format")

    def x0_circuit(self) -> Any:
        raise NotImplementedError("return a 3-qubit circuit with X on qubit 0, all qubits measured")

    def x1_idle_circuit(self) -> Any:
        raise NotImplementedError("return a 3-qubit circuit with X on qubit 1 and no measurement "
                                  "(qubits 0 and 2 idle): counts keys must still be 3 characters")

    # -- fixtures ------------------------------------------------------------------------------

    @pytest.fixture(scope="class")
    @classmethod
    def host(cls) -> PluginHost:
        host = PluginHost(strict=True)
        host.register_module(cls.plugin_name, cls.plugin_module)
        companions = cls.companion_plugins
        if companions is None:
            suite = cls()
            circuits = (suite.bell_circuit(), suite.x0_circuit(), suite.x1_idle_circuit())
            offered = host.resources(cls.executor, {"executor": cls.executor, **cls.config})
            companions = find_companions(host, circuits, (f for r in offered for f in r.circuit_formats))
        for name, module in companions:
            host.register_module(name, module)
        return host

    @pytest.fixture(scope="class")
    @classmethod
    def service(cls, host):

        pcs = PilotComputeService(execution_engine="local", plugins=host)
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": cls.executor, **cls.config}})
        yield pcs
        pcs.close()

    @pytest.fixture(scope="class")
    @classmethod
    def resources(cls, host) -> list[Resource]:
        config = {"executor": cls.executor, **cls.config}
        return list(host.resources(cls.executor, config))

    def run(self, service, circuit: Any, **task: Any):
        ref = service.submit_quantum_task(QuantumTask(circuit=circuit, shots=self.shots, **task))
        return service.get_result(ref, timeout=300)

    def check_counts(self, counts: dict[str, int], expected: set[str], width: int) -> None:
        assert sum(counts.values()) == self.shots, f"counts must add up to the shots: {counts}"
        assert all(len(k) == width and set(k) <= {"0", "1"} for k in counts), f"bad keys: {counts}"
        inside = sum(n for k, n in counts.items() if k in expected)
        if self.noisy:
            assert inside >= 0.6 * self.shots, f"expected mostly {expected}: {counts}"
        else:
            assert inside == self.shots, f"expected only {expected}: {counts}"

    # -- discovery -----------------------------------------------------------------------------

    def test_entry_point_imports_no_sdk(self) -> None:
        code = (
            f"import sys, {self.plugin_module} as m; "
            f"bad = [n for n in {SDK_MODULES!r} if n in sys.modules]; "
            "print(','.join(bad)); sys.exit(1 if bad else 0)"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{self.plugin_module} imports {proc.stdout.strip()} {proc.stderr[-500:]}"

    def test_executors_declared(self, host) -> None:
        infos = host.executors()
        assert infos and all(isinstance(i, ExecutorInfo) for i in infos)
        assert any(i.provider == self.plugin_name for i in infos)
        assert host.find_executor(self.executor).provider == self.plugin_name

    def test_resources_are_valid(self, resources) -> None:
        assert resources, f"{self.executor} offered no resources"
        for res in resources:
            assert isinstance(res, Resource)
            assert res.provider == self.plugin_name
            assert res.id.startswith(f"{self.plugin_name}:")
            assert res.kind in ("simulator", "qpu")
            assert res.num_qubits >= 3
            assert res.circuit_formats, "a resource must accept at least one circuit format"
        assert len({r.id for r in resources}) == len(resources), "resource ids must be unique"

    def test_resource_ids_are_stable(self, host, resources) -> None:
        config = {"executor": self.executor, **self.config}
        again = host.resources(self.executor, config)
        assert [r.id for r in again] == [r.id for r in resources]

    def test_circuit_format_recognised(self, host) -> None:

        assert detect_format(host, self.bell_circuit())
        assert host.call("qtau_circuit_format", circuit=object()) is None

    # -- execution -----------------------------------------------------------------------------

    def test_bell_counts(self, service) -> None:
        result = self.run(service, self.bell_circuit())
        counts = result.get_counts()
        self.check_counts(counts, {"00", "11"}, 2)
        for key in ("00", "11"):
            assert counts.get(key, 0) > 0.3 * self.shots, f"Bell outcomes must be balanced: {counts}"
        assert result.resource_id.startswith(f"{self.plugin_name}:")
        assert result.attempts and result.attempts[-1].ok

    def test_bit_order_qubit0_is_rightmost(self, service) -> None:
        counts = self.run(service, self.x0_circuit()).get_counts()
        self.check_counts(counts, {"001"}, 3)
        assert max(counts, key=counts.get) == "001", f"X on qubit 0 must read '001': {counts}"

    def test_idle_qubits_keep_the_task_width(self, service) -> None:
        """Some SDKs measure only the qubits a circuit uses; counts keys still have every qubit."""
        counts = self.run(service, self.x1_idle_circuit()).get_counts()
        self.check_counts(counts, {"010"}, 3)
        assert max(counts, key=counts.get) == "010", f"X on qubit 1 of 3 must read '010': {counts}"

    def test_compact_forms_run_as_the_original(self, host, service) -> None:
        """A compact form the plugins offer for these circuits (`qtau_compact_forms`) rebuilds a
        circuit that runs to the same counts: the journal's recovery and Ray's workers run the
        rebuilt one, never the original object."""
        forms = host.compact_forms()
        for circuit, expected in ((self.x0_circuit(), "001"), (self.x1_idle_circuit(), "010")):
            compactor = forms.compactor(type(circuit))
            if compactor is None or compactor(circuit) is None:
                continue
            rebuilt = pickle.loads(forms.pack(circuit))
            assert type(rebuilt) is type(circuit), f"the compact form rebuilt a {type(rebuilt).__name__}"
            counts = self.run(service, rebuilt).get_counts()
            self.check_counts(counts, {expected}, 3)

    def test_backend_is_v2(self, host) -> None:
        """The plugin registers a qtau.Backend through qtau_backends (not the deprecated v1 hooks)."""

        backend = host.backend(self.plugin_name)
        assert isinstance(backend, Backend) and not isinstance(backend, V1Backend)

    def test_batch_keeps_order(self, service) -> None:
        circuits = [self.x0_circuit(), self.bell_circuit(), self.x0_circuit()]
        refs = service.submit_quantum_tasks([QuantumTask(circuit=c, shots=self.shots) for c in circuits])
        results = service.get_results(refs, timeout=300)
        assert [max(r.counts, key=r.counts.get) for r in (results[0], results[2])] == ["001", "001"]
        self.check_counts(results[1].get_counts(), {"00", "11"}, 2)

    def test_concurrent_batch_chunks_do_not_mix(self, service) -> None:
        """A burst splits into chunks that run at once on one executor: results must not mix."""
        circuits = [self.x0_circuit() if i % 2 else self.bell_circuit() for i in range(12)]
        refs = service.submit_quantum_tasks([QuantumTask(circuit=c, shots=self.shots) for c in circuits])
        for i, result in enumerate(service.get_results(refs, timeout=600)):
            if i % 2:
                self.check_counts(result.get_counts(), {"001"}, 3)
            else:
                self.check_counts(result.get_counts(), {"00", "11"}, 2)

    def test_circuit_function(self, service) -> None:
        make = self.bell_circuit
        result = self.run(service, lambda: make(), num_qubits=2, gate_set=["h", "cx"])
        self.check_counts(result.get_counts(), {"00", "11"}, 2)

    # -- reporting -----------------------------------------------------------------------------

    def test_reporting_hooks(self, host, resources) -> None:
        config = {"executor": self.executor, **self.config}
        for res in resources:
            status = host.status(res, config)
            assert status is None or (isinstance(status, ResourceStatus) and status.resource_id == res.id)
            noise = host.noise(res, config)
            assert noise is None or isinstance(noise, NoiseProfile)
            if noise is not None:
                for rate in (noise.one_qubit_error, noise.two_qubit_error, noise.readout_error):
                    assert 0.0 <= rate <= 1.0
            cost = host.cost(res, config, 1000)
            assert cost is None or (isinstance(cost, CostEstimate) and cost.total(1000) >= 0)

    def test_explain_lists_every_resource(self, service, resources) -> None:
        table = service.qdreamer.explain(QuantumTask(circuit=self.bell_circuit(), shots=self.shots))
        assert {r.resource_id for r in table.rows} >= {r.id for r in resources}
        assert table.chosen is not None and "feasible" in str(table)

    # -- bad input -----------------------------------------------------------------------------

    def test_zero_shots_rejected(self) -> None:
        with pytest.raises(InvalidTaskError, match="shots"):
            QuantumTask(circuit=self.bell_circuit(), shots=0)

    def test_unsupported_circuit_object(self, service) -> None:
        with pytest.raises(InvalidTaskError, match="unsupported circuit"):
            service.submit_quantum_task(QuantumTask(circuit=object(), num_qubits=2))

    def test_too_many_qubits(self, service, resources) -> None:
        widest = max(r.num_qubits for r in resources)
        with pytest.raises(NoSuitableResourceError) as info:
            service.submit_quantum_task(
                QuantumTask(circuit=lambda: self.bell_circuit(), num_qubits=widest + 1, gate_set=["h"])
            )
        assert set(info.value.rejections) >= {r.id for r in resources}
        assert all("qubits" in why for why in info.value.rejections.values())

    def test_circuit_function_that_raises(self, service) -> None:
        def broken():
            raise RuntimeError("no circuit today")

        ref = service.submit_quantum_task(QuantumTask(circuit=broken, num_qubits=2))
        with pytest.raises(InvalidTaskError, match="no circuit today"):
            service.get_result(ref, timeout=120)

    def test_unknown_executor(self, service) -> None:
        with pytest.raises(UnknownExecutorError) as info:
            service.create_pilot({"resource_type": "quantum", "quantum": {"executor": "no_such_executor"}})
        assert self.executor in str(info.value) or self.plugin_name in str(info.value) or "*" in str(info.value)

    def test_errors_are_qtau_errors(self, service) -> None:
        with pytest.raises(QtauError):
            service.submit_quantum_task("not a task")
