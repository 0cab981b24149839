"""IBM devices built offline for quotes from qiskit-ibm-runtime's calibration snapshots: priced
as the device (pricing.json), never run."""

from qtau.backend import OFFLINE
from qtau_ibmq.offline import resources
from qtau_ibmq.pricing import estimate


def test_a_named_device_comes_from_its_snapshot_priced_as_the_device():
    [res] = resources("ibmq_brisbane", {})
    assert res.id == "ibmq:ibm_brisbane" and res.kind == "qpu" and res.num_qubits == 127
    assert res.metadata["gate_seconds"] and "fake_brisbane" in res.metadata[OFFLINE]
    cost = estimate(res, {}, 1000)
    assert cost.origin == "table" and cost.total(1000) > 1.0


def test_least_busy_offline_is_the_newest_refresh_of_the_snapshots():
    """Which devices the newest refresh holds changes with qiskit-ibm-runtime's release (the
    newest release dropped brisbane, torino and fez): only what holds for every release is asserted."""
    ids = {res.id for res in resources("ibmq_least_busy", {})}
    assert ids and all(i.startswith("ibmq:ibm_") for i in ids)
    assert "ibmq:ibm_washington" not in ids and "ibmq:ibm_lagos" not in ids


def test_fakes_the_simulator_and_unknown_devices_are_not_built_offline():
    assert resources("ibmq_fake_manila", {}) is None
    assert resources("ibmq_qasm_simulator", {}) is None
    assert resources("ibmq_nosuchdevice", {}) is None


def test_a_quote_for_one_device_reads_the_calibration_of_its_own_fake_only():
    """A target parses a fake's calibration data (0.1-0.2 s each, some sixty fakes): `qtau quote
    -e ibmq_<device>` builds one. A fresh interpreter, since this one's fakes may hold targets.
    Which fakes built one is seen through the SDK's public `target` property (every use of a
    fake's calibration goes through it), wrapped to note the fake's name."""
    import subprocess
    import sys

    code = (
        "from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2\n"
        "read, target = set(), FakeBackendV2.target\n"
        "FakeBackendV2.target = property(lambda self: (read.add(self.name), target.fget(self))[1])\n"
        "from qtau_ibmq.offline import resources\n"
        "[res] = resources('ibmq_brisbane', {})\nassert resources('ibmq_nosuchdevice', {}) is None\n"
        "print(res.id, sorted(read))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-800:]
    assert out.stdout.split() == ["ibmq:ibm_brisbane", "['fake_brisbane']"]
