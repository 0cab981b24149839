"""Executors, resources per pilot config, clear errors for what is missing, and reporting hooks."""

from __future__ import annotations

import sys

import pytest
from qtau import BackendUnavailableError, ConfigurationError, QtauError
from qtau_pennylane import catalog, extras

EXECUTORS = {"pennylane_default", "pennylane_lightning", "pennylane_qiskit", "pennylane_braket", "pennylane_forest"}
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
ARIA = "arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1"


def resources(host, executor, **quantum):
    return host.resources(executor, {"executor": executor, **quantum})


def ids(host, executor, **quantum):
    return [r.id for r in resources(host, executor, **quantum)]


def test_every_executor_is_declared_by_exact_name(host):
    infos = [i for i in host.executors() if i.provider == "pennylane"]
    assert {i.name for i in infos} == EXECUTORS and not any(i.prefix for i in infos)


def test_default_resources(host):
    assert ids(host, "pennylane_default") == ["pennylane:default.qubit"]
    assert ids(host, "pennylane_default", device="default.mixed") == ["pennylane:default.mixed"]
    noisy = resources(host, "pennylane_default", noise={"readout": 0.02})
    assert [r.id for r in noisy] == ["pennylane:default.mixed"] and noisy[0].metadata["noise"] == {"readout": 0.02}
    assert ids(host, "pennylane_lightning") == ["pennylane:lightning.qubit"]
    assert ids(host, "pennylane_qiskit") == ["pennylane:qiskit.aer", "pennylane:qiskit.basicsim"]
    assert ids(host, "pennylane_qiskit", device="qiskit.basicsim") == ["pennylane:qiskit.basicsim"]
    assert ids(host, "pennylane_braket") == ["pennylane:braket.local.qubit"]
    assert ids(host, "pennylane_braket", backend="braket_dm") == ["pennylane:braket.local.qubit:braket_dm"]


def test_qiskit_remote_with_an_ibm_fake_backend(host, services):
    [res] = resources(host, "pennylane_qiskit", device="qiskit.remote", backend="fake_manila")
    assert res.id == "pennylane:qiskit.remote:FakeManilaV2" and res.num_qubits == 5
    noise = host.noise(res, {})
    assert 0 < noise.two_qubit_error < 0.1 and 0 < noise.readout_error < 0.1 and noise.t1_us > 1
    from pennylane_test_circuits import x0_counts

    from conftest import run

    counts = run(services("pennylane_qiskit", device="qiskit.remote", backend="fake_manila"), x0_counts(), shots=500).get_counts()
    assert max(counts, key=counts.get) == "001" and sum(counts.values()) == 500


def test_unknown_fake_backend(host):
    with pytest.raises(ConfigurationError, match="fake backend"):
        resources(host, "pennylane_qiskit", device="qiskit.remote", backend="fake_nowhere")


def test_braket_aws_resource_from_an_arn_without_calling_aws(host):
    assert ids(host, "pennylane_braket", braket_device_arn=SV1)[-1] == f"pennylane:braket.aws.qubit:{SV1}"
    [res] = resources(host, "pennylane_braket", device="braket.aws.qubit", braket_device_arn=ARIA)
    assert res.kind == "qpu" and res.num_qubits == 25 and res.metadata["analytic"] is False
    cost = host.cost(res, {}, 100)
    assert cost.total(100) == pytest.approx(0.30 + 100 * 0.03)
    assert host.noise(res, {}) is None
    with pytest.raises(ConfigurationError, match="arn:aws:braket"):
        resources(host, "pennylane_braket", braket_device_arn="sv1")
    with pytest.raises(ConfigurationError, match="needs a device ARN"):
        resources(host, "pennylane_braket", device="braket.aws.qubit")


def test_device_of_another_executor_names_the_right_one(host):
    with pytest.raises(ConfigurationError, match="pennylane_qiskit"):
        resources(host, "pennylane_default", device="qiskit.aer")


def test_noise_only_where_it_can_be_applied(host):
    with pytest.raises(ConfigurationError, match="pennylane_default"):
        resources(host, "pennylane_lightning", noise={"readout": 0.1})
    with pytest.raises(ConfigurationError, match="default.qubit cannot"):
        resources(host, "pennylane_default", device="default.qubit", noise={"readout": 0.1})
    with pytest.raises(ConfigurationError, match="unknown noise setting"):
        resources(host, "pennylane_default", noise={"t1": 5})
    with pytest.raises(ConfigurationError, match="probability"):
        resources(host, "pennylane_default", noise={"readout": 2})


def test_missing_pennylane_qiskit_names_the_extra(host, monkeypatch):
    """pennylane-qiskit is installed here; a None entry in sys.modules makes it unimportable."""
    monkeypatch.setitem(sys.modules, "pennylane_qiskit", None)
    with pytest.raises(ConfigurationError) as info:
        resources(host, "pennylane_qiskit")
    assert "pip install 'qtau-pennylane[qiskit]'" in str(info.value)


def test_missing_braket_plugin_names_the_extra(host, monkeypatch):
    """The Braket PennyLane plugin is installed here; a None entry in sys.modules hides it."""
    monkeypatch.setitem(sys.modules, "braket.pennylane_plugin", None)
    with pytest.raises(ConfigurationError, match=r"qtau-pennylane\[braket\]"):
        resources(host, "pennylane_braket")


def test_forest_gives_its_clear_error_here(host, services):
    with pytest.raises(ConfigurationError) as info:
        resources(host, "pennylane_forest")
    text = str(info.value)
    assert "pennylane-rigetti" in text and "numpy < 2" in text
    assert "pip install 'qtau-pennylane[forest]'" in text and "qvm -S" in text and "braket_rigetti" in text
    from qtau.service import PilotComputeService

    with pytest.raises(ConfigurationError, match="braket_rigetti"):
        PilotComputeService(execution_engine="local", plugins=host).create_pilot(
            {"resource_type": "quantum", "quantum": {"executor": "pennylane_forest"}}
        )


def test_forest_with_the_plugin_but_no_servers(host, monkeypatch):
    """pennylane-rigetti cannot be installed beside PennyLane 0.45: its presence is faked (the
    module check only); the qvm/quilc check is real and finds nothing on closed local ports."""
    real = extras.has_module
    monkeypatch.setattr("qtau_pennylane.forest.has_module", lambda m: m == "pennylane_rigetti" or real(m))
    with pytest.raises(BackendUnavailableError) as info:
        resources(host, "pennylane_forest", qvm_url="http://127.0.0.1:9", quilc_url="tcp://127.0.0.1:9")
    assert "qvm -S" in str(info.value) and "quilc -S" in str(info.value) and "braket_rigetti" in str(info.value)


def test_lightning_gpu_when_absent_is_a_clear_error(host):
    with pytest.raises(ConfigurationError, match=r"qtau-pennylane\[lightning-gpu\]"):
        resources(host, "pennylane_lightning", device="lightning.gpu")


def test_lightning_gpu_is_offered_first_as_a_gpu_resource(host, monkeypatch):
    """No GPU and no pennylane-lightning-gpu here: both checks are faked to show the offer."""
    monkeypatch.setattr(catalog, "has_distribution", lambda name: name == "pennylane_lightning_gpu")
    monkeypatch.setattr(catalog, "gpu_visible", lambda: True)
    found = resources(host, "pennylane_lightning")
    assert [r.id for r in found] == ["pennylane:lightning.gpu", "pennylane:lightning.qubit"]
    assert found[0].metadata["gpu"] is True and found[1].metadata["gpu"] is False


def test_local_reporting(host):
    for executor in ("pennylane_default", "pennylane_lightning", "pennylane_qiskit", "pennylane_braket"):
        for res in resources(host, executor):
            cfg = {"executor": executor}
            assert host.cost(res, cfg, 10).total(10) == 0
            assert host.status(res, cfg).online
            assert host.noise(res, cfg).one_qubit_error == 0
    [mixed] = resources(host, "pennylane_default", noise={"depolarizing_2q": 0.03, "readout": 0.02})
    noise = host.noise(mixed, {})
    assert (noise.two_qubit_error, noise.readout_error) == (0.03, 0.02)


def test_errors_never_leak_sdk_types(host):
    with pytest.raises(QtauError):
        resources(host, "pennylane_default", device="no.such.device")


def test_offering_resources_imports_no_sdk():
    """Listing plugins and offering local resources stays cheap: no PennyLane import on the driver."""
    import subprocess

    code = (
        "import sys, qtau_pennylane, qtau_pennylane.plugin as p; "
        "[p.PennyLaneBackend().resources(e, {}) for e in ('pennylane_default', 'pennylane_lightning', "
        "'pennylane_qiskit', 'pennylane_braket')]; "
        "bad = [n for n in ('pennylane', 'qiskit', 'braket', 'ray', 'numpy') if n in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-800:]
