"""`qtau_qiskit.aer` loads Aer's OpenMP runtime with sleeping threads and leaves the environment as
it found it. Each case runs in a fresh interpreter (libgomp reads its settings once, when loaded),
which prints libgomp's own account of its settings (`OMP_DISPLAY_ENV=VERBOSE`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("qiskit_aer")

_SCRIPT = """
import os
{before}
import qtau_qiskit.aer
print("ENV", os.environ.get("OMP_WAIT_POLICY"))
"""


def _run(before: str = "", script: str | None = None, **env: str) -> tuple[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    code = script if script is not None else _SCRIPT.format(before=before)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**clean, "OMP_DISPLAY_ENV": "VERBOSE", **env})
    spin = [line.split("=", 1)[1].strip().strip("'") for line in out.stderr.splitlines() if "GOMP_SPINCOUNT" in line]
    assert spin, out.stderr
    return spin[0], out.stdout.split("ENV", 1)[1].strip()


def test_aer_threads_sleep_and_the_environment_is_restored():
    spin, after = _run()
    assert spin == "0"  # OMP_WAIT_POLICY=PASSIVE as libgomp read it
    assert after == "None"  # the process's environment is as it was


def test_a_users_own_policy_is_kept():
    spin, after = _run(OMP_WAIT_POLICY="ACTIVE")
    assert spin != "0" and spin != "300000"  # ACTIVE: libgomp spins (a very large count)
    assert after == "ACTIVE"


def test_aer_imported_before_qtau_keeps_its_policy():
    spin, after = _run(before="import qiskit_aer")
    assert spin == "300000"  # libgomp's default, as loaded by the program's own import
    assert after == "None"


_SERVICE = """
import os
from qiskit import QuantumCircuit
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.plugins import PluginHost

host = PluginHost(strict=True)
host.register_module("qiskit", "qtau_qiskit.plugin")
qc = QuantumCircuit(2)
qc.h(0)
qc.cx(0, 1)
qc.measure_all()
with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=host) as pcs:
    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=100)), timeout=120)
    assert sum(result.counts.values()) == 100
print("ENV", os.environ.get("OMP_WAIT_POLICY"))
"""


def test_a_service_loads_aer_with_sleeping_threads(tmp_path):
    """The way users meet Aer: a service places and runs a task. QDREAMER's first status call
    imports the plugin's SDK modules (`Backend.sdk_modules`, one thread at a time) before any
    executor exists; when that list named `qiskit_aer` itself, Aer's OpenMP runtime was loaded
    there with spinning threads (libgomp's 300000), and every later Aer call spun beside QTAU's
    Python threads (the one-at-a-time estimates of 12-17 qubit circuits fell from about 80% to 63%
    within 20%, five paired runs of benchmarks/estimates.py)."""
    spin, after = _run(script=_SERVICE, QTAU_CACHE_DIR=str(tmp_path))
    assert spin == "0"
    assert after == "None"


def test_the_plugins_sdk_modules_load_aer_with_sleeping_threads():
    before = ("import sys\n"
              "from qtau.sdk_imports import import_one_at_a_time\n"
              "from qtau_qiskit.plugin import QiskitBackend\n"
              "import_one_at_a_time(QiskitBackend.sdk_modules)\n"
              "assert 'qiskit_aer' in sys.modules")
    spin, after = _run(before=before)
    assert spin == "0"
    assert after == "None"
